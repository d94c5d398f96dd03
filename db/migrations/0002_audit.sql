-- The audit trail: append-only, each event chained to its predecessor by
-- SHA-256 (see convdesk.AuditEvent.ComputeHash), the chain head signed now and
-- then into audit_checkpoints with an HMAC key kept outside the database.
-- JSON columns hold lists and states exactly as the canonical encoding has them.

CREATE TABLE audit_events (
    id                INTEGER PRIMARY KEY,
    at                INTEGER NOT NULL,            -- microseconds, UTC
    actor_id          INTEGER NOT NULL DEFAULT 0,
    actor_name        TEXT NOT NULL DEFAULT '',
    actor_role        TEXT NOT NULL DEFAULT '',
    client_ip         TEXT NOT NULL DEFAULT '',
    user_agent        TEXT NOT NULL DEFAULT '',
    request_id        TEXT NOT NULL DEFAULT '',
    client_request_id TEXT NOT NULL DEFAULT '',
    action            TEXT NOT NULL,
    subject_user      TEXT NOT NULL DEFAULT '',
    group_names       TEXT NOT NULL DEFAULT 'null', -- JSON array
    conversation_ids  TEXT NOT NULL DEFAULT 'null', -- JSON array
    ticket            TEXT NOT NULL DEFAULT '',
    before_state      TEXT NOT NULL DEFAULT 'null', -- JSON array of GroupState
    after_state       TEXT NOT NULL DEFAULT 'null',
    outcome           TEXT NOT NULL,
    result_code       INTEGER NOT NULL DEFAULT 0,
    results           TEXT NOT NULL DEFAULT 'null', -- JSON array of OperationResult
    message           TEXT NOT NULL DEFAULT '',
    detail            TEXT NOT NULL DEFAULT 'null', -- JSON object
    duration_us       INTEGER NOT NULL DEFAULT 0,
    prev_hash         TEXT NOT NULL,
    hash              TEXT NOT NULL
);
CREATE INDEX audit_by_subject ON audit_events (subject_user, id);
CREATE INDEX audit_by_actor   ON audit_events (actor_name, id);
CREATE INDEX audit_by_action  ON audit_events (action, id);
CREATE INDEX audit_by_outcome ON audit_events (outcome, id);
CREATE INDEX audit_by_ticket  ON audit_events (ticket, id) WHERE ticket <> '';
CREATE INDEX audit_by_time    ON audit_events (at, id);

CREATE TABLE audit_checkpoints (
    id         INTEGER PRIMARY KEY,
    event_id   INTEGER NOT NULL,
    event_hash TEXT NOT NULL,
    at         INTEGER NOT NULL,
    prev_mac   TEXT NOT NULL,
    mac        TEXT NOT NULL
);
