-- Schema version 5: the case state `refused-identity` (a failed online citizen-identity check
-- stops the case). SQLite cannot change a CHECK constraint in place, so the table is rebuilt
-- the documented way (sqlite.org/lang_altertable.html, "making other kinds of table schema
-- changes"): the runner turns foreign keys off around this transaction and runs
-- `PRAGMA foreign_key_check` before it commits.
CREATE TABLE cases_v5 (
    id             TEXT PRIMARY KEY,
    case_number    TEXT NOT NULL UNIQUE,
    state          TEXT NOT NULL CHECK (state IN ('checked-in','identity-verified','form-recorded','form-signed',
                       'submitted','returned-for-info','approved','rejected','unlocked','unlock-failed','closed',
                       'cancelled','refused-authority-freeze','refused-identity')),
    version        INTEGER NOT NULL,
    appointment_id TEXT REFERENCES appointments (id),
    customer_name  TEXT NOT NULL,
    id_tail        TEXT NOT NULL,
    phone_tail     TEXT NOT NULL,
    lock_cause     TEXT,
    opened_by      TEXT NOT NULL,
    opened_at      TEXT NOT NULL,
    opened_day     TEXT NOT NULL,            -- branch-local YYYY-MM-DD
    updated_at     TEXT NOT NULL,
    data           TEXT NOT NULL             -- Case as JSON
) STRICT;
INSERT INTO cases_v5 (id, case_number, state, version, appointment_id, customer_name, id_tail,
                      phone_tail, lock_cause, opened_by, opened_at, opened_day, updated_at, data)
    SELECT id, case_number, state, version, appointment_id, customer_name, id_tail,
           phone_tail, lock_cause, opened_by, opened_at, opened_day, updated_at, data
    FROM cases;
DROP TABLE cases;
ALTER TABLE cases_v5 RENAME TO cases;
CREATE INDEX cases_day ON cases (opened_day);
CREATE INDEX cases_name ON cases (customer_name);
CREATE INDEX cases_id_tail ON cases (id_tail);
CREATE INDEX cases_phone_tail ON cases (phone_tail);
