//! The outbox: customer notifications and settle jobs (migration 0009).

use chrono::{DateTime, Utc};
use postgres::error::SqlState;
use unlockdesk_core::operator::{OutboxKind, OutboxMessage};
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::pg_err;
use crate::tx::Tx;

fn decode(rows: &[postgres::Row]) -> CoreResult<Vec<OutboxMessage>> {
    rows.iter()
        .map(|r| from_jsonb(col(r, "data")?, "outbox message"))
        .collect()
}

impl OutboxRead for Tx<'_, '_> {
    fn outbox(
        &mut self,
        case_id: Option<CaseId>,
        kind: Option<OutboxKind>,
        limit: u32,
    ) -> CoreResult<Vec<OutboxMessage>> {
        let rows = self.query(
            "SELECT data FROM outbox WHERE ($1::uuid IS NULL OR case_id = $1) \
             AND ($2::text IS NULL OR kind = $2) ORDER BY created_at DESC, id DESC LIMIT $3",
            &[
                &case_id.map(|c| c.0),
                &kind.map(|k| k.as_str()),
                &i64::from(limit),
            ],
        )?;
        decode(&rows)
    }

    fn next_outbox_due(&mut self) -> CoreResult<Option<DateTime<Utc>>> {
        let r = self.query_one(
            "SELECT MIN(GREATEST(next_attempt_at, claimed_until)) AS due FROM outbox \
             WHERE status = 'queued'",
            &[],
        )?;
        col(&r, "due")
    }

    fn count_queued_outbox(&mut self) -> CoreResult<u64> {
        let r = self.query_one(
            "SELECT COUNT(*)::bigint AS n FROM outbox WHERE status = 'queued'",
            &[],
        )?;
        Ok(col::<i64>(&r, "n")? as u64)
    }
}

impl OutboxWrite for Tx<'_, '_> {
    fn queue_outbox(&mut self, m: &OutboxMessage) -> CoreResult<()> {
        let data = to_jsonb(m)?;
        self.execute_raw(
            "INSERT INTO outbox (id, case_id, kind, status, next_attempt_at, claimed_until, \
             created_at, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &m.id,
                &m.case_id.0,
                &m.kind.as_str(),
                &m.status.as_str(),
                &m.next_attempt_at,
                &m.claimed_until,
                &m.created_at,
                &data,
            ],
        )
        .map_err(|e| {
            if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                CoreError::conflict(format!("outbox message {} exists", m.id))
            } else {
                pg_err(e)
            }
        })?;
        Ok(())
    }

    fn claim_outbox(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        kinds: &[OutboxKind],
    ) -> CoreResult<Vec<OutboxMessage>> {
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        // Rows another server's worker is taking right now are skipped, not waited for.
        let rows = self.query(
            "SELECT data FROM outbox WHERE status = 'queued' AND next_attempt_at <= $1 \
             AND (claimed_until IS NULL OR claimed_until <= $1) AND kind = ANY($3) \
             ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
            &[&now, &i64::from(limit), &kinds],
        )?;
        let mut due = decode(&rows)?;
        for m in &mut due {
            m.claimed_until = Some(lease_until);
            self.update_outbox(m)?;
        }
        Ok(due)
    }

    fn update_outbox(&mut self, m: &OutboxMessage) -> CoreResult<()> {
        let n = self.execute(
            "UPDATE outbox SET status = $2, next_attempt_at = $3, claimed_until = $4, data = $5 \
             WHERE id = $1",
            &[
                &m.id,
                &m.status.as_str(),
                &m.next_attempt_at,
                &m.claimed_until,
                &to_jsonb(m)?,
            ],
        )?;
        if n == 0 {
            return Err(CoreError::not_found(format!("outbox message {}", m.id)));
        }
        Ok(())
    }
}
