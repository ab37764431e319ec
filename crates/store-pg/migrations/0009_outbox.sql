-- Schema version 9: the outbox (core's `OutboxRead` / `OutboxWrite`; SQLite's 0009). A
-- customer SMS is queued in the transaction of the step that causes it and delivered after, at
-- least once, under its message id; a case waiting for the wallet operator's answer has a
-- settle job here too. Workers of several servers take due rows with FOR UPDATE SKIP LOCKED and
-- hold them under a lease (`claimed_until`), so two never send the same message at once and a
-- worker killed mid-send delays a message, never loses it. Rows are kept (the case's history).

CREATE TABLE outbox (
    id              text COLLATE "C" PRIMARY KEY, -- message id (UUID), the gateway's duplicate key
    case_id         uuid NOT NULL REFERENCES cases (id),
    kind            text NOT NULL CHECK (kind IN ('sms','operator-settle')),
    status          text NOT NULL CHECK (status IN ('queued','sent','failed')),
    next_attempt_at timestamptz NOT NULL,
    claimed_until   timestamptz,
    created_at      timestamptz NOT NULL,
    data            jsonb NOT NULL                -- OutboxMessage as JSON (no personal number)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbox_case ON outbox (case_id, created_at);
