-- UnlockDesk on PostgreSQL, schema version 1: the embedded store's schema (SQLite version 5)
-- in PostgreSQL types. Released migrations are never edited: add a new file.
--
-- Text columns that are compared by range or sorted carry COLLATE "C", so ordering and the
-- name-prefix ranges are byte order, as in SQLite, whatever the cluster's locale.

CREATE TABLE branch (
    id   integer PRIMARY KEY CHECK (id = 1),
    data jsonb NOT NULL                     -- Branch as JSON
);

CREATE TABLE staff (
    id                   text COLLATE "C" PRIMARY KEY, -- canonical (lower-case) staff id
    name                 text NOT NULL,
    role                 text NOT NULL CHECK (role IN ('teller','supervisor','admin','auditor')),
    password_hash        text NOT NULL,     -- argon2id PHC string
    must_change_password boolean NOT NULL,
    failed_logins        integer NOT NULL,
    locked               boolean NOT NULL,
    disabled             boolean NOT NULL,
    created_at           timestamptz NOT NULL
);

CREATE TABLE appointments (
    id              uuid PRIMARY KEY,
    reference       text COLLATE "C" NOT NULL UNIQUE,
    name            text COLLATE "C" NOT NULL,
    phone           text COLLATE "C" NOT NULL,
    phone_tail      text COLLATE "C" NOT NULL,
    id_type         text NOT NULL,
    id_number       text COLLATE "C" NOT NULL,
    id_tail         text COLLATE "C" NOT NULL,
    wallet_operator text NOT NULL,
    lock_cause      text NOT NULL,
    slot_start      timestamp NOT NULL,     -- branch-local, to the minute
    slot_end        timestamp NOT NULL,
    slot_day        date NOT NULL,          -- branch-local
    notes           text NOT NULL,
    status          text NOT NULL
                    CHECK (status IN ('waiting','checked-in','in-progress','done','no-show')),
    case_id         uuid
);
-- Every lookup key is an equality on a (key, slot_start) index, read in slot order with a
-- LIMIT (today's first, then the most recent), as in the embedded store. The last-4 indexes
-- carry the full number, so a full-number lookup is filtered inside the index. The name
-- prefixes of 1 and 2 characters are expression indexes (the embedded store keeps a table).
CREATE INDEX appointments_day ON appointments (slot_day, slot_start);
CREATE INDEX appointments_phone_tail_slot ON appointments (phone_tail, slot_start, phone);
CREATE INDEX appointments_id_tail_slot ON appointments (id_tail, slot_start, id_number);
CREATE INDEX appointments_name_slot ON appointments (name, slot_start);
CREATE INDEX appointments_name1_slot ON appointments ((left(name, 1)), slot_start);
CREATE INDEX appointments_name2_slot ON appointments ((left(name, 2)), slot_start);

CREATE TABLE cases (
    id             uuid PRIMARY KEY,
    case_number    text COLLATE "C" NOT NULL UNIQUE,
    state          text NOT NULL CHECK (state IN ('checked-in','identity-verified','form-recorded',
                       'form-signed','submitted','returned-for-info','approved','rejected',
                       'unlocked','unlock-failed','closed','cancelled','refused-authority-freeze',
                       'refused-identity')),
    version        bigint NOT NULL,
    appointment_id uuid REFERENCES appointments (id),
    customer_name  text COLLATE "C" NOT NULL,
    id_tail        text COLLATE "C" NOT NULL,
    phone_tail     text COLLATE "C" NOT NULL,
    lock_cause     text,
    opened_by      text NOT NULL,
    opened_at      timestamptz NOT NULL,
    opened_day     date NOT NULL,           -- branch-local
    updated_at     timestamptz NOT NULL,
    data           jsonb NOT NULL           -- Case as JSON
);
CREATE INDEX cases_day ON cases (opened_day);
CREATE INDEX cases_name ON cases (customer_name);
CREATE INDEX cases_id_tail ON cases (id_tail);
CREATE INDEX cases_phone_tail ON cases (phone_tail);
CREATE INDEX cases_opened_at ON cases (opened_at);

CREATE TABLE case_seq (
    day  date PRIMARY KEY,
    last integer NOT NULL
);

-- Append-only, hash-chained audit trail (docs/domain.md §6). `at` is stored at microseconds
-- (PostgreSQL's precision), the precision the hash is computed at on both backends. `detail`
-- stays text, not jsonb: the hash covers its exact characters.
CREATE TABLE audit_events (
    seq        bigint PRIMARY KEY,
    at         timestamptz NOT NULL,
    staff_id   text NOT NULL,
    role       text,
    terminal   text NOT NULL,
    case_id    uuid,
    action     text NOT NULL,
    from_state text,
    to_state   text,
    reason     text NOT NULL,
    outcome    text NOT NULL CHECK (outcome IN ('ok','refused')),
    detail     text NOT NULL,
    prev_hash  text NOT NULL,
    hash       text NOT NULL
);
CREATE INDEX audit_events_case ON audit_events (case_id, seq);

CREATE FUNCTION unlockdesk_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: the audit trail is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION unlockdesk_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION unlockdesk_append_only();

-- The chain's head: truncating the tail is detected, and every write transaction locks this
-- row first (`SELECT ... FOR UPDATE`), so appends never fork the chain. It always exists (an
-- empty chain is seq 0 after the genesis hash) and cannot be deleted.
CREATE TABLE audit_head (
    id   integer PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION unlockdesk_append_only();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION unlockdesk_append_only();

CREATE TABLE idempotency (
    key      text PRIMARY KEY,
    case_id  uuid NOT NULL,
    use_case text NOT NULL DEFAULT '',
    at       timestamptz NOT NULL
);

-- Printed documents: the bytes live in the database, so every terminal of the branch can
-- reprint them (the embedded store keeps them as files beside its database).
CREATE TABLE documents (
    id      text PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES cases (id),
    kind    text NOT NULL,
    copy    text NOT NULL,
    path    text NOT NULL,                  -- logical name, documents/<case>/<kind>-<copy>-<n>.pdf
    sha256  text NOT NULL,
    bytes   bigint NOT NULL,
    content bytea NOT NULL,
    at      timestamptz NOT NULL,
    by      text NOT NULL
);
-- PDFs are compressed already: store them out of line without another compression pass.
ALTER TABLE documents ALTER COLUMN content SET STORAGE EXTERNAL;
CREATE INDEX documents_case ON documents (case_id, at);
