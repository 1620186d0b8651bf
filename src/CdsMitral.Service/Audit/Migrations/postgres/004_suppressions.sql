-- Cards standing back after feedback: a rule, for a patient, while its input fingerprint stays the same, until a time.
-- Written once the feedback event is durable; shared by every instance that uses this store. Numbered 004 so that it
-- stands apart from other work on 003.
CREATE TABLE suppressions (
    dedupe_key          TEXT PRIMARY KEY,       -- the feedback item's key: a second delivery adds nothing
    feedback_event_id   TEXT NOT NULL,
    invocation_event_id TEXT NOT NULL,
    card_uuid           TEXT NOT NULL,
    client_issuer       TEXT NOT NULL,          -- '' for an unverified caller
    patient_id          TEXT NOT NULL,
    rule_id             TEXT NOT NULL,
    rule_version        TEXT NOT NULL,
    fingerprint         TEXT NOT NULL,
    outcome             TEXT NOT NULL,          -- accepted | overridden
    reason_system       TEXT,
    reason_code         TEXT,
    reason_display      TEXT,
    user_id             TEXT,                   -- the user the card was shown to
    at                  TEXT NOT NULL,          -- ISO 8601 UTC, fixed width, when the feedback was received
    until_at            TEXT NOT NULL
);
CREATE INDEX suppressions_patient ON suppressions (patient_id, rule_id, until_at);
