-- Indexes that keep an audit search fast at a million events (docs/perf.md).
--
-- A search pages newest first by id, so each filter column is indexed as
-- (column, id): an equality on the column then reads its events already in
-- page order, and a keyset position (id < ?) is a seek. These replace the
-- plain (column, id) indexes of 0002 with ones that also carry the other
-- filterable columns after the id. SQLite checks a filter on a column the
-- index carries before it reads the table row (a deferred seek), so a search
-- for "user:alice action:edits outcome:failed" walks alice's index entries
-- at index speed and reads only the rows it returns, instead of reading all
-- 17,000 of alice's rows to test their action and outcome.
-- One more, (outcome, action, id), answers "failed edits" or "partial moves"
-- with a seek per action, however rare the combination.
-- The ticket index (0002) and the time index (0002, used to turn a time range
-- into an id range) are kept as they are.

DROP INDEX audit_by_subject;
DROP INDEX audit_by_actor;
DROP INDEX audit_by_action;
DROP INDEX audit_by_outcome;

CREATE INDEX audit_page_by_subject ON audit_events (subject_user, id, action, outcome, actor_name, at);
CREATE INDEX audit_page_by_actor   ON audit_events (actor_name, id, action, outcome, subject_user, at);
CREATE INDEX audit_page_by_action  ON audit_events (action, id, outcome, subject_user, actor_name, at);
CREATE INDEX audit_page_by_outcome ON audit_events (outcome, id, action, subject_user, actor_name, at);
CREATE INDEX audit_by_outcome_action ON audit_events (outcome, action, id);
