-- End users, their conversation lists and their conversation groups: the
-- embedded backend's copy of what the IM service holds for each user.
-- Times are INTEGER microseconds since the Unix epoch, UTC.

CREATE TABLE im_users (
    id              TEXT PRIMARY KEY,
    nickname        TEXT NOT NULL DEFAULT '',
    nickname_fold   TEXT NOT NULL DEFAULT '', -- lower-cased nickname for search
    face_url        TEXT NOT NULL DEFAULT '',
    -- The board version: advanced by every change to this user's groups.
    version         INTEGER NOT NULL DEFAULT 1,
    changed_at      INTEGER NOT NULL DEFAULT 0,
    changed_by      TEXT NOT NULL DEFAULT '',
    changed_action  TEXT NOT NULL DEFAULT '',
    changed_summary TEXT NOT NULL DEFAULT ''
);

CREATE TABLE conversations (
    user_id         TEXT NOT NULL REFERENCES im_users(id) ON DELETE CASCADE,
    conv_id         TEXT NOT NULL,
    show_name       TEXT NOT NULL DEFAULT '',
    face_url        TEXT NOT NULL DEFAULT '',
    last_message    TEXT NOT NULL DEFAULT '',
    last_message_at INTEGER NOT NULL DEFAULT 0,
    unread_count    INTEGER NOT NULL DEFAULT 0,
    pinned          INTEGER NOT NULL DEFAULT 0,
    marks           INTEGER NOT NULL DEFAULT 0,
    order_key       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conv_id)
);
CREATE INDEX conversations_by_order ON conversations (user_id, order_key DESC, conv_id);

CREATE TABLE conv_groups (
    id         INTEGER PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES im_users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES conv_groups(id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL,
    conv_id  TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, conv_id),
    FOREIGN KEY (user_id, conv_id) REFERENCES conversations(user_id, conv_id) ON DELETE CASCADE
);
CREATE INDEX group_members_by_conversation ON group_members (user_id, conv_id);

-- Settings of this database, such as whether it was created in demo mode.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
