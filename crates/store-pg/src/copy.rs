//! The whole store for `store copy`: every row listed in one snapshot, and written verbatim
//! into an empty database (audit events with their seq and hashes, documents with their path).

use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::tx::Tx;

impl CopyRead for Tx<'_, '_> {
    fn all_cases(&mut self) -> CoreResult<Vec<Case>> {
        self.query("SELECT data FROM cases ORDER BY opened_at, id", &[])?
            .iter()
            .map(|r| self.case_of(col(r, "data")?))
            .collect()
    }

    fn all_appointments(&mut self) -> CoreResult<Vec<Appointment>> {
        self.query(
            &format!("SELECT {APPT_COLS} FROM appointments ORDER BY id"),
            &[],
        )?
        .iter()
        .map(|r| self.appt(r))
        .collect()
    }

    fn all_idempotency(&mut self) -> CoreResult<Vec<IdempotencyRecord>> {
        self.query(
            "SELECT key, case_id, use_case, at FROM idempotency ORDER BY at, key",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(IdempotencyRecord {
                key: col(r, "key")?,
                call: IdempotentCall {
                    case_id: CaseId(col(r, "case_id")?),
                    use_case: col(r, "use_case")?,
                },
                at: col(r, "at")?,
            })
        })
        .collect()
    }

    fn all_documents(&mut self) -> CoreResult<Vec<DocumentRecord>> {
        let ids: Vec<uuid::Uuid> = self
            .query(
                "SELECT DISTINCT case_id FROM documents ORDER BY case_id",
                &[],
            )?
            .iter()
            .map(|r| col(r, "case_id"))
            .collect::<CoreResult<_>>()?;
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.documents(CaseId(id))?);
        }
        Ok(out)
    }

    fn case_seqs(&mut self) -> CoreResult<Vec<(NaiveDate, u32)>> {
        self.query("SELECT day, last FROM case_seq ORDER BY day", &[])?
            .iter()
            .map(|r| Ok((col(r, "day")?, col::<i32>(r, "last")?.max(0) as u32)))
            .collect()
    }
}

impl CopyWrite for Tx<'_, '_> {
    fn insert_audit_event(&mut self, e: &AuditEvent) -> CoreResult<()> {
        self.serialise()?;
        let head = self.head.as_ref().map(|(s, _)| *s).ok_or_else(|| {
            CoreError::storage("the audit chain head is missing: the database was altered")
        })?;
        if e.seq != head + 1 {
            return Err(CoreError::conflict(format!(
                "audit event {} is not the next in the chain (head {head})",
                e.seq
            )));
        }
        self.insert_event(e)
    }

    fn insert_document(&mut self, rec: &DocumentRecord, bytes: &[u8]) -> CoreResult<()> {
        if hex::encode(Sha256::digest(bytes)) != rec.sha256 {
            return Err(CoreError::storage(format!(
                "printed document {} does not match its recorded SHA-256",
                rec.path
            )));
        }
        let content = match self.keys {
            Some(k) => k.seal_bytes(&rec.id, bytes)?,
            None => bytes.to_vec(),
        };
        self.execute(
            "INSERT INTO documents (id, case_id, kind, copy, path, sha256, bytes, content, at, by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &rec.id,
                &rec.case_id.0,
                &rec.kind.as_str(),
                &rec.copy.as_str(),
                &rec.path,
                &rec.sha256,
                &rec.bytes,
                &content,
                &rec.at,
                &rec.by.as_str(),
            ],
        )?;
        Ok(())
    }

    fn set_case_seq(&mut self, day: NaiveDate, last: u32) -> CoreResult<()> {
        let last = i32::try_from(last)
            .map_err(|_| CoreError::storage(format!("case sequence {last} is too large")))?;
        self.execute(
            "INSERT INTO case_seq (day, last) VALUES ($1, $2) \
             ON CONFLICT (day) DO UPDATE SET last = excluded.last",
            &[&day, &last],
        )?;
        Ok(())
    }
}
