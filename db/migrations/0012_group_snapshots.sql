-- The latest snapshot of each end user's conversation groups on a backend
-- without push (Tencent IM), for finding changes made outside convdesk:
-- a compact JSON document (group IDs, names, member conversation IDs; see
-- convdesk.GroupsSnapshot) and when it was taken, in microseconds.
CREATE TABLE group_snapshots (
    user_id  TEXT PRIMARY KEY,
    taken_at INTEGER NOT NULL,
    groups   BLOB NOT NULL
);
