-- Schema version 7: the branch server's sessions, enrolled terminals and one-time enrolment
-- codes (core's `SessionRead` / `SessionWrite`), in the store so that several servers on one
-- database agree on them. No secret is stored in clear: a session token, a terminal's secret
-- and an enrolment code are kept as their SHA-256 (64 lowercase hex characters), so a copy of
-- the file signs nobody in. Rows are never deleted: sign-out, revoking and using a code set a
-- time. Times are UTC, RFC 3339 at microseconds, as every other column of the store.

CREATE TABLE server_sessions (
    token_hash TEXT PRIMARY KEY,            -- SHA-256 (hex) of the opaque token
    staff_id   TEXT NOT NULL,
    terminal   TEXT NOT NULL,               -- an enrolled terminal's id, or local:<name>
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL,               -- the session expires idle minutes after it
    revoked_at TEXT                         -- NULL while the session is open
) STRICT;
-- Revoking a terminal, or disabling an account, ends its open sessions in the same
-- transaction: these find them without reading every session ever opened.
CREATE INDEX server_sessions_terminal ON server_sessions (terminal);
CREATE INDEX server_sessions_staff ON server_sessions (staff_id);

CREATE TABLE terminals (
    id          TEXT PRIMARY KEY,           -- term- and 12 hex characters
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,              -- SHA-256 (hex) of the terminal's secret
    enrolled_at TEXT NOT NULL,
    enrolled_by TEXT NOT NULL,              -- the admin who issued the code
    revoked_at  TEXT
) STRICT;

CREATE TABLE enrolment_codes (
    code_hash   TEXT PRIMARY KEY,           -- SHA-256 (hex) of the code
    issued_by   TEXT NOT NULL,
    issued_at   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,                       -- a code works once: set when it is used,
    terminal_id TEXT                        -- with the terminal it enrolled
) STRICT;
