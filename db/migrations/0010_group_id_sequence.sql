-- Group IDs are never reused: without AUTOINCREMENT SQLite gives a new row
-- the highest ID plus one, so deleting the newest group would hand its ID to
-- the next one (another user's, even), and audit events naming that ID would
-- become ambiguous. The embedded backend takes each new ID from this counter,
-- which only grows.
CREATE TABLE group_id_sequence (
    last INTEGER NOT NULL
);
INSERT INTO group_id_sequence (last) SELECT COALESCE(MAX(id), 0) FROM conv_groups;
