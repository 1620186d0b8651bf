-- Purge events are few (one a day at most) and are looked up by the archive check: a partial index finds them without
-- reading the chain.
CREATE INDEX audit_events_purges ON audit_events (seq) WHERE kind = 'purge';
