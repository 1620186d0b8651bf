-- The governance view's figures, folded from the chained hook and feedback events once each (in the background and
-- before each /audit/insights), so that the view costs what the range holds in days, not in events. Derived data: the
-- chain stays the record; insight_state says how far the fold has read it. Nothing here names a patient or a user.
CREATE TABLE insight_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    through_seq INTEGER NOT NULL
);
INSERT INTO insight_state (id, through_seq) VALUES (1, 0);

-- Per rule version and UTC day of the hook call.
CREATE TABLE insight_days (
    rule_id         TEXT NOT NULL,
    version         TEXT NOT NULL,
    day             TEXT NOT NULL,
    judged          INTEGER NOT NULL,
    fired           INTEGER NOT NULL,
    judged_silently INTEGER NOT NULL,
    fired_silently  INTEGER NOT NULL,
    shown           INTEGER NOT NULL,
    suppressed      INTEGER NOT NULL,
    left_out        INTEGER NOT NULL,
    PRIMARY KEY (day, rule_id, version)
);

-- The data-quality findings in the snapshots a rule fired on, counted per day.
CREATE TABLE insight_findings (
    rule_id TEXT NOT NULL,
    version TEXT NOT NULL,
    day     TEXT NOT NULL,
    finding TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (day, rule_id, version, finding)
);

-- Each card shown, so that its feedback counts in the day (and week) it was shown.
CREATE TABLE insight_cards (
    card_uuid TEXT PRIMARY KEY,
    rule_id   TEXT NOT NULL,
    version   TEXT NOT NULL,
    day       TEXT NOT NULL,
    shown_at  TEXT NOT NULL
);

-- Each answer (accepted or overridden) to a card shown, with the time it took.
CREATE TABLE insight_answers (
    feedback_event_id TEXT PRIMARY KEY,
    rule_id           TEXT NOT NULL,
    version           TEXT NOT NULL,
    day               TEXT NOT NULL,
    outcome           TEXT NOT NULL,
    reason            TEXT,
    seconds           REAL NOT NULL
);
CREATE INDEX insight_answers_day ON insight_answers (day);
