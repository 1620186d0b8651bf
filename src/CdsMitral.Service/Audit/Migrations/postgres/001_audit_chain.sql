-- The audit chain: every event (hook, feedback, purge) in commit order, each hashed with the one before it.
CREATE TABLE audit_events (
    seq       BIGINT  PRIMARY KEY,
    id        TEXT    NOT NULL UNIQUE,
    kind      TEXT    NOT NULL,
    at        TEXT    NOT NULL,              -- ISO 8601 UTC, fixed width: text order is time order
    document  TEXT    NOT NULL,              -- the JSON exactly as hashed
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);

-- One row; locked by every append so that the chain stays a chain with several writers.
CREATE TABLE chain_head (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    seq        BIGINT  NOT NULL,
    hash       TEXT    NOT NULL,
    anchor     TEXT    NOT NULL,             -- where verification starts: genesis, or the last purged event's hash
    anchor_seq BIGINT  NOT NULL
);
INSERT INTO chain_head (id, seq, hash, anchor, anchor_seq)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', '0000000000000000000000000000000000000000000000000000000000000000', 0);

-- Index tables for the auditors' questions; derived from the chain, written in the same transaction.
CREATE TABLE invocations (
    event_id      TEXT PRIMARY KEY REFERENCES audit_events (id) ON DELETE CASCADE,
    at            TEXT NOT NULL,
    service_id    TEXT NOT NULL,
    hook          TEXT,
    hook_instance TEXT,
    patient_id    TEXT,
    user_id       TEXT,
    client_issuer TEXT,
    status        INTEGER NOT NULL,
    rule_ids      TEXT NOT NULL,             -- ",smr-coapt-profile,smr-gdmt-gap,"
    indicators    TEXT NOT NULL              -- ",info,warning,"
);
CREATE INDEX invocations_at ON invocations (at);
CREATE INDEX invocations_patient ON invocations (patient_id, at);
CREATE INDEX invocations_user ON invocations (user_id, at);

CREATE TABLE cards (
    card_uuid TEXT PRIMARY KEY,
    event_id  TEXT NOT NULL REFERENCES audit_events (id) ON DELETE CASCADE,
    rule_id   TEXT NOT NULL,
    indicator TEXT NOT NULL
);
CREATE INDEX cards_event ON cards (event_id);

CREATE TABLE feedback (
    event_id            TEXT PRIMARY KEY REFERENCES audit_events (id) ON DELETE CASCADE,
    dedupe_key          TEXT NOT NULL UNIQUE,
    card_uuid           TEXT NOT NULL,
    invocation_event_id TEXT,
    outcome             TEXT NOT NULL,
    at                  TEXT NOT NULL,
    known_card          INTEGER NOT NULL
);
CREATE INDEX feedback_invocation ON feedback (invocation_event_id);
CREATE INDEX feedback_card ON feedback (card_uuid);

-- Client JWT ids seen, shared by every instance that uses this store.
CREATE TABLE replay_cache (
    issuer  TEXT NOT NULL,
    jti     TEXT NOT NULL,
    expires TEXT NOT NULL,
    PRIMARY KEY (issuer, jti)
);
