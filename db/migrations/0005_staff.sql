-- Staff accounts of the console and their server-side sessions.

CREATE TABLE staff (
    id                   INTEGER PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL DEFAULT '',
    role                 TEXT NOT NULL CHECK (role IN ('viewer', 'agent', 'auditor', 'admin')),
    password_hash        TEXT NOT NULL,
    time_zone            TEXT NOT NULL DEFAULT '',
    language             TEXT NOT NULL DEFAULT '',
    must_change_password INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    disabled_at          INTEGER NOT NULL DEFAULT 0
);

-- Sessions as scs stores them (token, encoded data, expiry), with the expiry
-- in microseconds so the store can use the database's injectable clock.
CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BLOB NOT NULL,
    expiry INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expiry);
