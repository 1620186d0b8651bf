-- The Navigator's launches and sessions, when CdsMitral:Navigator:SessionStore is Database: they survive a restart and
-- every instance on this store shares them. Numbered 013 (issue 13) to stand apart from the audit chain's own migrations.
-- Keys are SHA-256 (hex) of the random ids, so this table holds no cookie; state is the session as JSON, encrypted with
-- ASP.NET Core Data Protection (the access token with it).
CREATE TABLE navigator_launches (
    id         TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL                -- ISO 8601 UTC, fixed width
);
CREATE TABLE navigator_sessions (
    id         TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL,               -- ISO 8601 UTC, fixed width: text order is time order
    state      TEXT NOT NULL
);
CREATE INDEX navigator_sessions_expires ON navigator_sessions (expires_at);
