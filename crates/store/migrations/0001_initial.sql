-- UnlockDesk case store, schema version 1. Released migrations are never edited.

CREATE TABLE branch (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    data TEXT NOT NULL                      -- Branch as JSON
) STRICT;

CREATE TABLE staff (
    id                   TEXT PRIMARY KEY,  -- canonical (lower-case) staff id
    name                 TEXT NOT NULL,
    role                 TEXT NOT NULL CHECK (role IN ('teller','supervisor','admin','auditor')),
    password_hash        TEXT NOT NULL,     -- argon2id PHC string
    must_change_password INTEGER NOT NULL,
    failed_logins        INTEGER NOT NULL,
    locked               INTEGER NOT NULL,
    disabled             INTEGER NOT NULL,
    created_at           TEXT NOT NULL
) STRICT;

CREATE TABLE appointments (
    id              TEXT PRIMARY KEY,
    reference       TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    phone           TEXT NOT NULL,
    phone_tail      TEXT NOT NULL,
    id_type         TEXT NOT NULL,
    id_number       TEXT NOT NULL,
    id_tail         TEXT NOT NULL,
    wallet_operator TEXT NOT NULL,
    lock_cause      TEXT NOT NULL,
    slot_start      TEXT NOT NULL,           -- branch-local YYYY-MM-DDTHH:MM
    slot_end        TEXT NOT NULL,
    slot_day        TEXT NOT NULL,           -- branch-local YYYY-MM-DD
    notes           TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('waiting','checked-in','in-progress','done','no-show')),
    case_id         TEXT
) STRICT;
CREATE INDEX appointments_day ON appointments (slot_day, slot_start);
CREATE INDEX appointments_phone ON appointments (phone);
CREATE INDEX appointments_phone_tail ON appointments (phone_tail, slot_day);
CREATE INDEX appointments_id_number ON appointments (id_number);
CREATE INDEX appointments_id_tail ON appointments (id_tail, slot_day);
CREATE INDEX appointments_name ON appointments (name, slot_day);

CREATE TABLE cases (
    id             TEXT PRIMARY KEY,
    case_number    TEXT NOT NULL UNIQUE,
    state          TEXT NOT NULL CHECK (state IN ('checked-in','identity-verified','form-recorded','form-signed',
                       'submitted','returned-for-info','approved','rejected','unlocked','unlock-failed','closed',
                       'cancelled','refused-authority-freeze')),
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
CREATE INDEX cases_day ON cases (opened_day, state);
CREATE INDEX cases_name ON cases (customer_name);
CREATE INDEX cases_id_tail ON cases (id_tail);
CREATE INDEX cases_phone_tail ON cases (phone_tail);

CREATE TABLE case_seq (
    day  TEXT PRIMARY KEY,
    last INTEGER NOT NULL
) STRICT;

-- Append-only, hash-chained audit trail (docs/domain.md §6).
CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,               -- UTC, RFC 3339
    staff_id   TEXT NOT NULL,
    role       TEXT,
    terminal   TEXT NOT NULL,
    case_id    TEXT,
    action     TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT,
    reason     TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('ok','refused')),
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_case ON audit_events (case_id, seq);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;

-- The chain's head, so truncating the tail is detected too.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;

CREATE TABLE idempotency (
    key     TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    at      TEXT NOT NULL
) STRICT;

CREATE TABLE documents (
    id      TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    kind    TEXT NOT NULL,
    copy    TEXT NOT NULL,
    path    TEXT NOT NULL,
    sha256  TEXT NOT NULL,
    bytes   INTEGER NOT NULL,
    at      TEXT NOT NULL,
    by      TEXT NOT NULL
) STRICT;
CREATE INDEX documents_case ON documents (case_id, at);
