-- Schema version 5: the branch server's sessions, enrolled terminals and one-time enrolment
-- codes (core's `SessionRead` / `SessionWrite`; SQLite's 0007), in the database so that
-- several servers on it agree on them. No secret is stored in clear: a session token, a
-- terminal's secret and an enrolment code are kept as their SHA-256 (64 lowercase hex
-- characters), so a dump of the database signs nobody in. Rows are never deleted: sign-out,
-- revoking and using a code set a time (the application role has no DELETE on these tables;
-- the runner's grants in migrate.rs).
--
-- Keys are COLLATE "C" (byte order, as in SQLite, whatever the cluster's locale).

CREATE TABLE server_sessions (
    token_hash text COLLATE "C" PRIMARY KEY, -- SHA-256 (hex) of the opaque token
    staff_id   text COLLATE "C" NOT NULL,
    terminal   text COLLATE "C" NOT NULL,    -- an enrolled terminal's id, or local:<name>
    created_at timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL,         -- the session expires idle minutes after it
    revoked_at timestamptz                   -- NULL while the session is open
);
-- Revoking a terminal, or disabling an account, ends its open sessions in the same
-- transaction: these find them without reading every session ever opened. Neither indexed
-- column changes after sign-in, so touching `last_seen` stays a HOT update.
CREATE INDEX server_sessions_terminal ON server_sessions (terminal);
CREATE INDEX server_sessions_staff ON server_sessions (staff_id);

CREATE TABLE terminals (
    id          text COLLATE "C" PRIMARY KEY, -- term- and 12 hex characters
    name        text NOT NULL,
    secret_hash text NOT NULL,               -- SHA-256 (hex) of the terminal's secret
    enrolled_at timestamptz NOT NULL,
    enrolled_by text COLLATE "C" NOT NULL,   -- the admin who issued the code
    revoked_at  timestamptz
);

CREATE TABLE enrolment_codes (
    code_hash   text COLLATE "C" PRIMARY KEY, -- SHA-256 (hex) of the code
    issued_by   text COLLATE "C" NOT NULL,
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,                 -- a code works once: set when it is used,
    terminal_id text COLLATE "C"             -- with the terminal it enrolled
);
