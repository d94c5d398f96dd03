-- Counts each account's password changes. A session remembers the count it
-- was signed in under, and ends when the account's count has moved on: a
-- password change ends the person's other sessions without finding them in
-- the sessions table (whose rows scs encodes), and a request of such a
-- session still in flight cannot bring it back by saving it.
ALTER TABLE staff ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
