-- Schema version 8: retention (core's `RetentionRead` / `RetentionWrite`). Legal holds and the
-- destruction register are rows of their own: setting a hold is not a change to the case, and
-- the register outlives the cases it destroyed. Neither is ever deleted, and a released hold or
-- a decided batch is never changed again (triggers below). The
-- candidates of a purge are found by a partial index over final cases by their last change.

CREATE TABLE legal_holds (
    id       TEXT PRIMARY KEY,              -- UUID
    case_id  TEXT NOT NULL REFERENCES cases (id),
    active   INTEGER NOT NULL,              -- 1 until released
    set_at   TEXT NOT NULL,                 -- UTC, RFC 3339 at microseconds
    data     TEXT NOT NULL                  -- LegalHold as JSON
) STRICT;
CREATE INDEX legal_holds_case ON legal_holds (case_id, active);
CREATE INDEX legal_holds_active ON legal_holds (active, set_at);
CREATE TRIGGER legal_holds_no_delete BEFORE DELETE ON legal_holds
BEGIN SELECT RAISE(ABORT, 'legal holds are released, never deleted'); END;
CREATE TRIGGER legal_holds_final BEFORE UPDATE ON legal_holds WHEN OLD.active = 0
BEGIN SELECT RAISE(ABORT, 'a released legal hold is final'); END;

CREATE TABLE purge_batches (
    id          TEXT PRIMARY KEY,           -- DR-YYYYMMDD-xxxxxx
    state       TEXT NOT NULL CHECK (state IN ('prepared','approved','withdrawn')),
    prepared_at TEXT NOT NULL,
    data        TEXT NOT NULL               -- PurgeBatch as JSON
) STRICT;
CREATE INDEX purge_batches_prepared ON purge_batches (prepared_at);
CREATE TRIGGER purge_batches_no_delete BEFORE DELETE ON purge_batches
BEGIN SELECT RAISE(ABORT, 'the destruction register is permanent'); END;
CREATE TRIGGER purge_batches_final BEFORE UPDATE ON purge_batches WHEN OLD.state <> 'prepared'
BEGIN SELECT RAISE(ABORT, 'an approved or withdrawn destruction batch is final'); END;

CREATE INDEX cases_closed ON cases (updated_at)
    WHERE state IN ('closed','cancelled','rejected','refused-authority-freeze','refused-identity');

-- The console filters the trail by staff, action and time.
CREATE INDEX audit_events_staff ON audit_events (staff_id, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_at ON audit_events (at);
