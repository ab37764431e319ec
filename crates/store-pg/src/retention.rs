//! Legal holds, the destruction register, and what a purge deletes (migration 0007).

use chrono::{DateTime, NaiveDate, Utc};
use postgres::error::SqlState;
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::pg_err;
use crate::tx::Tx;

fn insert_err(e: postgres::Error, what: &str) -> CoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        CoreError::conflict(format!("this {what} exists"))
    } else {
        pg_err(e)
    }
}

impl RetentionRead for Tx<'_, '_> {
    fn legal_holds(
        &mut self,
        case_id: Option<CaseId>,
        active_only: bool,
    ) -> CoreResult<Vec<LegalHold>> {
        let rows = self.query(
            "SELECT data FROM legal_holds WHERE ($1::uuid IS NULL OR case_id = $1) \
             AND (NOT $2::boolean OR active) ORDER BY set_at DESC, id",
            &[&case_id.map(|c| c.0), &active_only],
        )?;
        rows.iter()
            .map(|r| from_jsonb(col(r, "data")?, "legal hold"))
            .collect()
    }

    fn purge_batches(&mut self) -> CoreResult<Vec<PurgeBatch>> {
        let rows = self.query(
            "SELECT data FROM purge_batches ORDER BY prepared_at DESC, id",
            &[],
        )?;
        rows.iter()
            .map(|r| from_jsonb(col(r, "data")?, "destruction batch"))
            .collect()
    }

    fn purge_batch(&mut self, id: &str) -> CoreResult<Option<PurgeBatch>> {
        self.query_opt("SELECT data FROM purge_batches WHERE id = $1", &[&id])?
            .map(|r| from_jsonb(col(&r, "data")?, "destruction batch"))
            .transpose()
    }

    fn closed_cases(
        &mut self,
        before: DateTime<Utc>,
        after: Option<(DateTime<Utc>, CaseId)>,
        limit: u32,
    ) -> CoreResult<Vec<Case>> {
        let rows = self.query(
            "SELECT data FROM cases WHERE state IN ('closed','cancelled','rejected',\
             'refused-authority-freeze','refused-identity') AND updated_at < $1 \
             AND ($2::timestamptz IS NULL OR (updated_at, id) > ($2, $3::uuid)) \
             ORDER BY updated_at, id LIMIT $4",
            &[
                &before,
                &after.map(|a| a.0),
                &after.map(|a| a.1 .0),
                &i64::from(limit),
            ],
        )?;
        rows.iter().map(|r| self.case_of(col(r, "data")?)).collect()
    }

    fn count_unlinked_appointments(&mut self, day: NaiveDate) -> CoreResult<u64> {
        let r = self.query_one(
            "SELECT COUNT(*)::bigint AS n FROM appointments WHERE case_id IS NULL AND slot_day < $1",
            &[&day],
        )?;
        Ok(col::<i64>(&r, "n")? as u64)
    }
}

impl RetentionWrite for Tx<'_, '_> {
    fn insert_legal_hold(&mut self, h: &LegalHold) -> CoreResult<()> {
        let sql = "INSERT INTO legal_holds (id, case_id, active, set_at, data) VALUES ($1, $2, $3, $4, $5)";
        let data = to_jsonb(h)?;
        self.execute_raw(sql, &[&h.id, &h.case_id.0, &h.active(), &h.set_at, &data])
            .map_err(|e| insert_err(e, "legal hold"))?;
        Ok(())
    }

    fn update_legal_hold(&mut self, h: &LegalHold) -> CoreResult<()> {
        let n = self.execute(
            "UPDATE legal_holds SET active = $2, data = $3 WHERE id = $1",
            &[&h.id, &h.active(), &to_jsonb(h)?],
        )?;
        if n == 0 {
            return Err(CoreError::not_found(format!("legal hold {}", h.id)));
        }
        Ok(())
    }

    fn insert_purge_batch(&mut self, b: &PurgeBatch) -> CoreResult<()> {
        let sql =
            "INSERT INTO purge_batches (id, state, prepared_at, data) VALUES ($1, $2, $3, $4)";
        let data = to_jsonb(b)?;
        self.execute_raw(sql, &[&b.id, &b.state.as_str(), &b.prepared_at, &data])
            .map_err(|e| insert_err(e, "destruction batch"))?;
        Ok(())
    }

    fn update_purge_batch(&mut self, b: &PurgeBatch) -> CoreResult<()> {
        let n = self.execute(
            "UPDATE purge_batches SET state = $2, data = $3 WHERE id = $1",
            &[&b.id, &b.state.as_str(), &to_jsonb(b)?],
        )?;
        if n == 0 {
            return Err(CoreError::not_found(format!("destruction batch {}", b.id)));
        }
        Ok(())
    }

    fn delete_documents(&mut self, case_id: CaseId) -> CoreResult<u32> {
        let n = self.execute("DELETE FROM documents WHERE case_id = $1", &[&case_id.0])?;
        Ok(n as u32)
    }

    fn delete_appointment(&mut self, id: AppointmentId) -> CoreResult<()> {
        // The case's own JSON already dropped the link; its column follows.
        self.execute(
            "UPDATE cases SET appointment_id = NULL WHERE appointment_id = $1",
            &[&id.0],
        )?;
        self.execute("DELETE FROM appointments WHERE id = $1", &[&id.0])?;
        Ok(())
    }

    fn delete_unlinked_appointments(&mut self, day: NaiveDate) -> CoreResult<u64> {
        self.execute(
            "DELETE FROM appointments WHERE case_id IS NULL AND slot_day < $1",
            &[&day],
        )
    }
}
