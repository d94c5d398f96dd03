-- Counters the board header and the columns show, kept in the rows they
-- describe, so a board reads them with the user row and the group rows
-- instead of counting 5,000 conversations and 1,000 memberships on every
-- view (docs/perf.md):
--   im_users.conv_count     = COUNT(*) FROM conversations WHERE user_id = id
--   im_users.grouped_count  = COUNT(DISTINCT conv_id) FROM group_members WHERE user_id = id
--   im_users.group_count    = COUNT(*) FROM conv_groups WHERE user_id = id
--   conv_groups.member_count = COUNT(*) FROM group_members WHERE group_id = id
-- Each counter is defined over one table, and triggers on that table keep it
-- right row by row, cascaded deletes included (SQLite fires a child's
-- triggers for ON DELETE CASCADE), at one or two index lookups per row.
-- SQLite-specific: the triggers (a PostgreSQL port would use triggers too).
-- INSERT OR REPLACE on these tables would skip the delete triggers (they
-- fire on REPLACE only under recursive_triggers): convdesk never uses it.

ALTER TABLE im_users ADD COLUMN conv_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE im_users ADD COLUMN grouped_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE im_users ADD COLUMN group_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conv_groups ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;

UPDATE im_users SET
    conv_count = (SELECT COUNT(*) FROM conversations c WHERE c.user_id = im_users.id),
    grouped_count = (SELECT COUNT(DISTINCT m.conv_id) FROM group_members m WHERE m.user_id = im_users.id),
    group_count = (SELECT COUNT(*) FROM conv_groups g WHERE g.user_id = im_users.id);

UPDATE conv_groups SET
    member_count = (SELECT COUNT(*) FROM group_members m WHERE m.group_id = conv_groups.id);

CREATE TRIGGER conversations_count_on_insert AFTER INSERT ON conversations
BEGIN
    UPDATE im_users SET conv_count = conv_count + 1 WHERE id = NEW.user_id;
END;

CREATE TRIGGER conversations_count_on_delete AFTER DELETE ON conversations
BEGIN
    UPDATE im_users SET conv_count = conv_count - 1 WHERE id = OLD.user_id;
END;

CREATE TRIGGER conversations_count_on_move AFTER UPDATE OF user_id ON conversations
WHEN OLD.user_id IS NOT NEW.user_id
BEGIN
    UPDATE im_users SET conv_count = conv_count - 1 WHERE id = OLD.user_id;
    UPDATE im_users SET conv_count = conv_count + 1 WHERE id = NEW.user_id;
END;

CREATE TRIGGER conv_groups_count_on_insert AFTER INSERT ON conv_groups
BEGIN
    UPDATE im_users SET group_count = group_count + 1 WHERE id = NEW.user_id;
END;

CREATE TRIGGER conv_groups_count_on_delete AFTER DELETE ON conv_groups
BEGIN
    UPDATE im_users SET group_count = group_count - 1 WHERE id = OLD.user_id;
END;

CREATE TRIGGER conv_groups_count_on_move AFTER UPDATE OF user_id ON conv_groups
WHEN OLD.user_id IS NOT NEW.user_id
BEGIN
    UPDATE im_users SET group_count = group_count - 1 WHERE id = OLD.user_id;
    UPDATE im_users SET group_count = group_count + 1 WHERE id = NEW.user_id;
END;

-- A conversation counts as grouped while at least one membership names it:
-- a membership added is its first when no other row (another group: the
-- primary key is group and conversation) has the same user and
-- conversation; one removed was its last when none is left.
CREATE TRIGGER group_members_count_on_insert AFTER INSERT ON group_members
BEGIN
    UPDATE conv_groups SET member_count = member_count + 1 WHERE id = NEW.group_id;
    UPDATE im_users SET grouped_count = grouped_count + 1
    WHERE id = NEW.user_id AND NOT EXISTS (SELECT 1 FROM group_members o
        WHERE o.user_id = NEW.user_id AND o.conv_id = NEW.conv_id AND o.group_id <> NEW.group_id);
END;

CREATE TRIGGER group_members_count_on_delete AFTER DELETE ON group_members
BEGIN
    UPDATE conv_groups SET member_count = member_count - 1 WHERE id = OLD.group_id;
    UPDATE im_users SET grouped_count = grouped_count - 1
    WHERE id = OLD.user_id AND NOT EXISTS (SELECT 1 FROM group_members o
        WHERE o.user_id = OLD.user_id AND o.conv_id = OLD.conv_id);
END;

-- An update that moves a membership (to another group, user or
-- conversation) is a removal of the old row and an addition of the new one;
-- a move between groups leaves the conversation grouped.
CREATE TRIGGER group_members_count_on_move AFTER UPDATE OF group_id, user_id, conv_id ON group_members
BEGIN
    UPDATE conv_groups SET member_count = member_count - 1
    WHERE id = OLD.group_id AND OLD.group_id IS NOT NEW.group_id;
    UPDATE conv_groups SET member_count = member_count + 1
    WHERE id = NEW.group_id AND OLD.group_id IS NOT NEW.group_id;
    UPDATE im_users SET grouped_count = grouped_count - 1
    WHERE id = OLD.user_id AND (OLD.user_id IS NOT NEW.user_id OR OLD.conv_id IS NOT NEW.conv_id)
        AND NOT EXISTS (SELECT 1 FROM group_members o WHERE o.user_id = OLD.user_id AND o.conv_id = OLD.conv_id);
    UPDATE im_users SET grouped_count = grouped_count + 1
    WHERE id = NEW.user_id AND (OLD.user_id IS NOT NEW.user_id OR OLD.conv_id IS NOT NEW.conv_id)
        AND NOT EXISTS (SELECT 1 FROM group_members o
            WHERE o.user_id = NEW.user_id AND o.conv_id = NEW.conv_id AND o.group_id <> NEW.group_id);
END;
