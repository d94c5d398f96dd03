-- Free-text index of the audit trail: one row per (term, event). Terms are the
-- lower-cased words and overlapping CJK bigrams of the event's group names and
-- conversation IDs (see termsOf in db/audit_terms.go), so a search is an index
-- range scan newest first, whatever the size of the trail. FTS4/FTS5 were not
-- used: neither tokenizer splits Chinese, and FTS5 needs a build tag.
-- SQLite-specific: WITHOUT ROWID (a plain table with this primary key elsewhere).

CREATE TABLE audit_terms (
    term     TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    PRIMARY KEY (term, event_id)
) WITHOUT ROWID;

CREATE TRIGGER audit_terms_no_update BEFORE UPDATE ON audit_terms
BEGIN SELECT RAISE(ABORT, 'audit_terms is append-only'); END;

CREATE TRIGGER audit_terms_no_delete BEFORE DELETE ON audit_terms
BEGIN SELECT RAISE(ABORT, 'audit_terms is append-only'); END;
