-- SQLite commits a hook event and the chain head before the call is answered, and its invocation and card rows after,
-- in batches. index_head is the newest event whose index rows are all written; at start-up the events past it (a crash
-- between the two) have their rows rebuilt from their chained documents. Everything before this migration is indexed.
CREATE TABLE index_head (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO index_head (id, seq) SELECT 1, seq FROM chain_head;
