-- Schema version 7: retention (core's `RetentionRead` / `RetentionWrite`; SQLite's 0008).
-- Legal holds and the destruction register are rows of their own: setting a hold is not a
-- change to the case, and the register outlives the cases it destroyed. The application role
-- may not delete either (the runner's grants in migrate.rs). The candidates of a purge are
-- found by a partial index over final cases by their last change.

CREATE TABLE legal_holds (
    id       text COLLATE "C" PRIMARY KEY,  -- UUID
    case_id  uuid NOT NULL REFERENCES cases (id),
    active   boolean NOT NULL,              -- true until released
    set_at   timestamptz NOT NULL,
    data     jsonb NOT NULL                 -- LegalHold as JSON
);
CREATE INDEX legal_holds_case ON legal_holds (case_id, active);
CREATE INDEX legal_holds_active ON legal_holds (active, set_at);

CREATE TABLE purge_batches (
    id          text COLLATE "C" PRIMARY KEY, -- DR-YYYYMMDD-xxxxxx
    state       text NOT NULL CHECK (state IN ('prepared','approved','withdrawn')),
    prepared_at timestamptz NOT NULL,
    data        jsonb NOT NULL               -- PurgeBatch as JSON
);
CREATE INDEX purge_batches_prepared ON purge_batches (prepared_at);

-- A released hold and a decided batch are final: the register cannot be rewritten.
CREATE FUNCTION unlockdesk_final_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: this row is final', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER purge_batches_final BEFORE UPDATE ON purge_batches
    FOR EACH ROW WHEN (OLD.state <> 'prepared') EXECUTE FUNCTION unlockdesk_final_row();
CREATE TRIGGER legal_holds_final BEFORE UPDATE ON legal_holds
    FOR EACH ROW WHEN (NOT OLD.active) EXECUTE FUNCTION unlockdesk_final_row();

CREATE INDEX cases_closed ON cases (updated_at)
    WHERE state IN ('closed','cancelled','rejected','refused-authority-freeze','refused-identity');

-- The console filters the trail by staff, action and time.
CREATE INDEX audit_events_staff ON audit_events (staff_id, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_at ON audit_events (at);
