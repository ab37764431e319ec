//! The outbox: customer notifications and settle jobs (schema version 9).

use chrono::{DateTime, Utc};
use rusqlite::params;
use unlockdesk_core::operator::{OutboxKind, OutboxMessage};
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::sql_err;
use crate::tx::Tx;

fn messages(tx: &Tx<'_>, sql: &str, p: impl rusqlite::Params) -> CoreResult<Vec<OutboxMessage>> {
    let mut st = tx.tx.prepare_cached(sql).map_err(sql_err)?;
    let texts = st
        .query_map(p, |r| r.get::<_, String>(0))
        .map_err(sql_err)?
        .collect::<rusqlite::Result<Vec<String>>>()
        .map_err(sql_err)?;
    texts
        .iter()
        .map(|s| from_json(s, "outbox message"))
        .collect()
}

impl OutboxRead for Tx<'_> {
    fn outbox(
        &mut self,
        case_id: Option<CaseId>,
        kind: Option<OutboxKind>,
        limit: u32,
    ) -> CoreResult<Vec<OutboxMessage>> {
        messages(
            self,
            "SELECT data FROM outbox WHERE (?1 IS NULL OR case_id = ?1) \
             AND (?2 IS NULL OR kind = ?2) ORDER BY created_at DESC, id DESC LIMIT ?3",
            params![
                case_id.map(|c| c.to_string()),
                kind.map(|k| k.as_str()),
                i64::from(limit)
            ],
        )
    }

    fn next_outbox_due(&mut self) -> CoreResult<Option<DateTime<Utc>>> {
        let t: Option<String> = self
            .q_row(
                "SELECT MIN(CASE WHEN claimed_until > next_attempt_at THEN claimed_until \
                 ELSE next_attempt_at END) FROM outbox WHERE status = 'queued'",
                [],
                |r| r.get(0),
            )
            .map_err(sql_err)?;
        parse_opt_ts(t)
    }

    fn count_queued_outbox(&mut self) -> CoreResult<u64> {
        let n: i64 = self
            .q_row(
                "SELECT COUNT(*) FROM outbox WHERE status = 'queued'",
                [],
                |r| r.get(0),
            )
            .map_err(sql_err)?;
        Ok(n as u64)
    }
}

impl OutboxWrite for Tx<'_> {
    fn queue_outbox(&mut self, m: &OutboxMessage) -> CoreResult<()> {
        self.exec(
            "INSERT INTO outbox (id, case_id, kind, status, next_attempt_at, claimed_until, \
             created_at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                m.id,
                m.case_id.to_string(),
                m.kind.as_str(),
                m.status.as_str(),
                ts(m.next_attempt_at),
                m.claimed_until.map(ts),
                ts(m.created_at),
                json(m)?
            ],
        )
        .map_err(|e| match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                CoreError::conflict(format!("outbox message {} exists", m.id))
            }
            _ => sql_err(e),
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
        // The write transaction holds SQLite's write lock: no other worker reads these rows
        // as free until it commits the leases.
        let has = |k: OutboxKind| i64::from(kinds.contains(&k));
        let mut due = messages(
            self,
            "SELECT data FROM outbox WHERE status = 'queued' AND next_attempt_at <= ?1 \
             AND (claimed_until IS NULL OR claimed_until <= ?1) \
             AND ((kind = 'sms' AND ?3 = 1) OR (kind = 'operator-settle' AND ?4 = 1)) \
             ORDER BY next_attempt_at, id LIMIT ?2",
            params![
                ts(now),
                i64::from(limit),
                has(OutboxKind::Sms),
                has(OutboxKind::OperatorSettle)
            ],
        )?;
        for m in &mut due {
            m.claimed_until = Some(lease_until);
            self.update_outbox(m)?;
        }
        Ok(due)
    }

    fn update_outbox(&mut self, m: &OutboxMessage) -> CoreResult<()> {
        let n = self
            .exec(
                "UPDATE outbox SET status = ?2, next_attempt_at = ?3, claimed_until = ?4, \
                 data = ?5 WHERE id = ?1",
                params![
                    m.id,
                    m.status.as_str(),
                    ts(m.next_attempt_at),
                    m.claimed_until.map(ts),
                    json(m)?
                ],
            )
            .map_err(sql_err)?;
        if n == 0 {
            return Err(CoreError::not_found(format!("outbox message {}", m.id)));
        }
        Ok(())
    }
}
