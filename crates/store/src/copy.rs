//! The whole store for `store copy`: every row listed in one snapshot, and written verbatim
//! into an empty store (audit events with their seq and hashes, documents with their path).

use chrono::NaiveDate;
use rusqlite::params;
use sha2::{Digest, Sha256};
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::sql_err;
use crate::tx::Tx;

impl CopyRead for Tx<'_> {
    fn all_cases(&mut self) -> CoreResult<Vec<Case>> {
        let mut st = self
            .tx
            .prepare_cached("SELECT data FROM cases ORDER BY opened_at, id")
            .map_err(sql_err)?;
        let rows = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(sql_err)?;
        rows.map(|r| from_json(&r.map_err(sql_err)?, "case"))
            .collect()
    }

    fn all_appointments(&mut self) -> CoreResult<Vec<Appointment>> {
        let mut st = self
            .tx
            .prepare_cached(&format!(
                "SELECT {APPT_COLS} FROM appointments ORDER BY rowid"
            ))
            .map_err(sql_err)?;
        let rows = st.query_map([], appt_row).map_err(sql_err)?;
        rows.map(|r| to_appt(r.map_err(sql_err)?)).collect()
    }

    fn all_idempotency(&mut self) -> CoreResult<Vec<IdempotencyRecord>> {
        let mut st = self
            .tx
            .prepare_cached("SELECT key, case_id, use_case, at FROM idempotency ORDER BY at, key")
            .map_err(sql_err)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(sql_err)?;
        rows.map(|r| {
            let (key, case_id, use_case, at) = r.map_err(sql_err)?;
            Ok(IdempotencyRecord {
                key,
                call: IdempotentCall {
                    case_id: CaseId::parse(&case_id)?,
                    use_case,
                },
                at: parse_ts(&at)?,
            })
        })
        .collect()
    }

    fn all_documents(&mut self) -> CoreResult<Vec<DocumentRecord>> {
        let mut st = self
            .tx
            .prepare_cached("SELECT DISTINCT case_id FROM documents ORDER BY case_id")
            .map_err(sql_err)?;
        let ids = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(sql_err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql_err)?;
        drop(st);
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.documents(CaseId::parse(&id)?)?);
        }
        Ok(out)
    }

    fn case_seqs(&mut self) -> CoreResult<Vec<(NaiveDate, u32)>> {
        let mut st = self
            .tx
            .prepare_cached("SELECT day, last FROM case_seq ORDER BY day")
            .map_err(sql_err)?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))
            .map_err(sql_err)?;
        rows.map(|r| {
            let (day, last) = r.map_err(sql_err)?;
            let day = day
                .parse::<NaiveDate>()
                .map_err(|e| CoreError::storage(format!("case_seq day '{day}': {e}")))?;
            Ok((day, last))
        })
        .collect()
    }
}

impl CopyWrite for Tx<'_> {
    fn insert_audit_event(&mut self, e: &AuditEvent) -> CoreResult<()> {
        let head: i64 = self
            .q_row("SELECT COALESCE(MAX(seq), 0) FROM audit_events", [], |r| {
                r.get(0)
            })
            .map_err(sql_err)?;
        if e.seq != head + 1 {
            return Err(CoreError::conflict(format!(
                "audit event {} is not the next in the chain (head {head})",
                e.seq
            )));
        }
        crate::audit::insert_event(self.tx, e).map_err(sql_err)
    }

    fn insert_document(&mut self, rec: &DocumentRecord, bytes: &[u8]) -> CoreResult<()> {
        if hex::encode(Sha256::digest(bytes)) != rec.sha256 {
            return Err(CoreError::storage(format!(
                "printed document {} does not match its recorded SHA-256",
                rec.path
            )));
        }
        let abs = self.dir.join(&rec.path);
        if let Some(p) = abs.parent() {
            std::fs::create_dir_all(p)
                .map_err(|e| CoreError::storage(format!("cannot create {}: {e}", p.display())))?;
        }
        crate::keys::write_atomic(&abs, &crate::tx::seal(self.keys, &rec.path, bytes)?)?;
        self.exec(
            "INSERT INTO documents (id, case_id, kind, copy, path, sha256, bytes, at, by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                rec.id,
                rec.case_id.to_string(),
                rec.kind.as_str(),
                rec.copy.as_str(),
                rec.path,
                rec.sha256,
                rec.bytes,
                ts(rec.at),
                rec.by.as_str()
            ],
        )
        .map_err(sql_err)?;
        Ok(())
    }

    fn set_case_seq(&mut self, day: NaiveDate, last: u32) -> CoreResult<()> {
        self.exec(
            "INSERT INTO case_seq (day, last) VALUES (?1, ?2) \
             ON CONFLICT (day) DO UPDATE SET last = excluded.last",
            params![day.to_string(), last],
        )
        .map_err(sql_err)?;
        Ok(())
    }
}
