-- Schema version 9: the outbox (core's `OutboxRead` / `OutboxWrite`). A customer SMS is queued
-- in the transaction of the step that causes it and delivered after, at least once, under its
-- message id; a case waiting for the wallet operator's answer has a settle job here too. The
-- worker takes due rows under a lease (`claimed_until`), so a worker killed mid-send delays a
-- message and never loses it. Rows are kept (they are the case's notification history).

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,       -- message id (UUID), the gateway's duplicate key
    case_id         TEXT NOT NULL REFERENCES cases (id),
    kind            TEXT NOT NULL CHECK (kind IN ('sms','operator-settle')),
    status          TEXT NOT NULL CHECK (status IN ('queued','sent','failed')),
    next_attempt_at TEXT NOT NULL,          -- UTC, RFC 3339 at microseconds
    claimed_until   TEXT,                   -- a worker's lease
    created_at      TEXT NOT NULL,
    data            TEXT NOT NULL           -- OutboxMessage as JSON (no personal number)
) STRICT;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbox_case ON outbox (case_id, created_at);
