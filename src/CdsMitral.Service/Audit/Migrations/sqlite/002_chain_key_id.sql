-- The chain is keyed: each event names the key whose HMAC-SHA256 is its hash. NULL marks an event written before
-- keying (plain SHA-256), which verification reports as legacy, unkeyed.
ALTER TABLE audit_events ADD COLUMN key_id TEXT;
