-- Listings look up the groups of each conversation on a page by (user_id,
-- conv_id); with group_id in the index that lookup never reads the table. The
-- wider index serves every query the narrower one did, so it replaces it.
CREATE INDEX group_members_by_conversation_group ON group_members (user_id, conv_id, group_id);
DROP INDEX group_members_by_conversation;
