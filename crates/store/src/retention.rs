//! Legal holds, the destruction register, and what a purge deletes (schema version 8).

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::sql_err;
use crate::tx::Tx;

fn rows<T: serde::de::DeserializeOwned>(
    tx: &Tx<'_>,
    sql: &str,
    p: impl rusqlite::Params,
    what: &str,
) -> CoreResult<Vec<T>> {
    let mut st = tx.tx.prepare_cached(sql).map_err(sql_err)?;
    let texts = st
        .query_map(p, |r| r.get::<_, String>(0))
        .map_err(sql_err)?
        .collect::<rusqlite::Result<Vec<String>>>()
        .map_err(sql_err)?;
    texts.iter().map(|s| from_json(s, what)).collect()
}

impl RetentionRead for Tx<'_> {
    fn legal_holds(
        &mut self,
        case_id: Option<CaseId>,
        active_only: bool,
    ) -> CoreResult<Vec<LegalHold>> {
        let active = if active_only { 1 } else { 0 };
        match case_id {
            Some(c) => rows(
                self,
                "SELECT data FROM legal_holds WHERE case_id = ?1 AND active >= ?2 \
                 ORDER BY set_at DESC, id",
                params![c.to_string(), active],
                "legal hold",
            ),
            None => rows(
                self,
                "SELECT data FROM legal_holds WHERE active >= ?1 ORDER BY set_at DESC, id",
                params![active],
                "legal hold",
            ),
        }
    }

    fn purge_batches(&mut self) -> CoreResult<Vec<PurgeBatch>> {
        rows(
            self,
            "SELECT data FROM purge_batches ORDER BY prepared_at DESC, id",
            [],
            "destruction batch",
        )
    }

    fn purge_batch(&mut self, id: &str) -> CoreResult<Option<PurgeBatch>> {
        Ok(rows(
            self,
            "SELECT data FROM purge_batches WHERE id = ?1",
            params![id],
            "destruction batch",
        )?
        .pop())
    }

    fn closed_cases(
        &mut self,
        before: DateTime<Utc>,
        after: Option<(DateTime<Utc>, CaseId)>,
        limit: u32,
    ) -> CoreResult<Vec<Case>> {
        let (at, id) = match after {
            Some((t, c)) => (Some(ts(t)), Some(c.to_string())),
            None => (None, None),
        };
        rows(
            self,
            "SELECT data FROM cases WHERE state IN ('closed','cancelled','rejected',\
             'refused-authority-freeze','refused-identity') AND updated_at < ?1 \
             AND (?2 IS NULL OR updated_at > ?2 OR (updated_at = ?2 AND id > ?3)) \
             ORDER BY updated_at, id LIMIT ?4",
            params![ts(before), at, id, limit],
            "case",
        )
    }

    fn count_unlinked_appointments(&mut self, day: NaiveDate) -> CoreResult<u64> {
        let n: i64 = self
            .q_row(
                "SELECT COUNT(*) FROM appointments WHERE case_id IS NULL AND slot_day < ?1",
                params![day.to_string()],
                |r| r.get(0),
            )
            .map_err(sql_err)?;
        Ok(n as u64)
    }
}

impl RetentionWrite for Tx<'_> {
    fn insert_legal_hold(&mut self, h: &LegalHold) -> CoreResult<()> {
        self.exec(
            "INSERT INTO legal_holds (id, case_id, active, set_at, data) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                h.id,
                h.case_id.to_string(),
                h.active() as i64,
                ts(h.set_at),
                json(h)?
            ],
        )
        .map_err(|e| unique_conflict(e, "legal hold"))?;
        Ok(())
    }

    fn update_legal_hold(&mut self, h: &LegalHold) -> CoreResult<()> {
        let n = self
            .exec(
                "UPDATE legal_holds SET active = ?2, data = ?3 WHERE id = ?1",
                params![h.id, h.active() as i64, json(h)?],
            )
            .map_err(sql_err)?;
        if n == 0 {
            return Err(CoreError::not_found(format!("legal hold {}", h.id)));
        }
        Ok(())
    }

    fn insert_purge_batch(&mut self, b: &PurgeBatch) -> CoreResult<()> {
        self.exec(
            "INSERT INTO purge_batches (id, state, prepared_at, data) VALUES (?1, ?2, ?3, ?4)",
            params![b.id, b.state.as_str(), ts(b.prepared_at), json(b)?],
        )
        .map_err(|e| unique_conflict(e, "destruction batch"))?;
        Ok(())
    }

    fn update_purge_batch(&mut self, b: &PurgeBatch) -> CoreResult<()> {
        let n = self
            .exec(
                "UPDATE purge_batches SET state = ?2, data = ?3 WHERE id = ?1",
                params![b.id, b.state.as_str(), json(b)?],
            )
            .map_err(sql_err)?;
        if n == 0 {
            return Err(CoreError::not_found(format!("destruction batch {}", b.id)));
        }
        Ok(())
    }

    fn delete_documents(&mut self, case_id: CaseId) -> CoreResult<u32> {
        // The files go after the commit (`SqliteStore::after_purge`): a rolled-back purge
        // must leave every recorded document readable.
        let n = self
            .exec(
                "DELETE FROM documents WHERE case_id = ?1",
                params![case_id.to_string()],
            )
            .map_err(sql_err)?;
        Ok(n as u32)
    }

    fn delete_appointment(&mut self, id: AppointmentId) -> CoreResult<()> {
        // The case's own JSON already dropped the link; its column follows.
        self.exec(
            "UPDATE cases SET appointment_id = NULL WHERE appointment_id = ?1",
            params![id.to_string()],
        )
        .map_err(sql_err)?;
        self.exec(
            "DELETE FROM appointments WHERE id = ?1",
            params![id.to_string()],
        )
        .map_err(sql_err)?;
        Ok(())
    }

    fn delete_unlinked_appointments(&mut self, day: NaiveDate) -> CoreResult<u64> {
        let n = self
            .exec(
                "DELETE FROM appointments WHERE case_id IS NULL AND slot_day < ?1",
                params![day.to_string()],
            )
            .map_err(sql_err)?;
        Ok(n as u64)
    }
}

fn unique_conflict(e: rusqlite::Error, what: &str) -> CoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            CoreError::conflict(format!("this {what} exists"))
        }
        _ => sql_err(e),
    }
}
