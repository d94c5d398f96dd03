-- A group's listing walks its members in the board's order (order key
-- descending, conversation ID ascending) straight from an index, instead of
-- reading and sorting every member: group_members keeps a copy of each
-- conversation's order key. SQLite-specific: triggers keep the copy equal to
-- conversations.order_key (a PostgreSQL port would do the same with
-- triggers, or a generated join).

ALTER TABLE group_members ADD COLUMN order_key INTEGER NOT NULL DEFAULT 0;

UPDATE group_members SET order_key = (
    SELECT c.order_key FROM conversations c
    WHERE c.user_id = group_members.user_id AND c.conv_id = group_members.conv_id);

CREATE INDEX group_members_in_order ON group_members (group_id, order_key DESC, conv_id);

CREATE TRIGGER group_members_order_on_insert AFTER INSERT ON group_members
BEGIN
    UPDATE group_members SET order_key = (
        SELECT c.order_key FROM conversations c WHERE c.user_id = NEW.user_id AND c.conv_id = NEW.conv_id)
    WHERE group_id = NEW.group_id AND conv_id = NEW.conv_id;
END;

CREATE TRIGGER group_members_order_on_change AFTER UPDATE OF order_key ON conversations
BEGIN
    UPDATE group_members SET order_key = NEW.order_key
    WHERE user_id = NEW.user_id AND conv_id = NEW.conv_id;
END;
