//! Printed documents: the bytes in the `documents` table (`bytea`) with their SHA-256, so
//! every terminal of the branch reads the same copy; never left on one terminal's disk.

use sha2::{Digest, Sha256};
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::tx::Tx;

impl DocumentRead for Tx<'_, '_> {
    fn document_bytes(&mut self, rec: &DocumentRecord) -> CoreResult<Vec<u8>> {
        let row = self
            .query_opt("SELECT content FROM documents WHERE id = $1", &[&rec.id])?
            .ok_or_else(|| {
                CoreError::storage(format!("printed document {} is missing", rec.path))
            })?;
        let bytes: Vec<u8> = col(&row, "content")?;
        let bytes = match self.keys {
            Some(k) => k.open_bytes(&rec.id, bytes)?,
            None => bytes,
        };
        if hex::encode(Sha256::digest(&bytes)) != rec.sha256 {
            return Err(CoreError::storage(format!(
                "printed document {} does not match its recorded SHA-256: it was altered",
                rec.path
            )));
        }
        Ok(bytes)
    }

    fn documents(&mut self, case_id: CaseId) -> CoreResult<Vec<DocumentRecord>> {
        let rows = self.query(
            "SELECT id, kind, copy, path, sha256, bytes, at, by FROM documents WHERE case_id = $1 ORDER BY at, path",
            &[&case_id.0],
        )?;
        rows.iter()
            .map(|r| {
                Ok(DocumentRecord {
                    id: col(r, "id")?,
                    case_id,
                    kind: col::<String>(r, "kind")?.parse()?,
                    copy: col::<String>(r, "copy")?.parse()?,
                    path: col(r, "path")?,
                    sha256: col(r, "sha256")?,
                    bytes: col(r, "bytes")?,
                    at: col(r, "at")?,
                    by: StaffId::parse(&col::<String>(r, "by")?)?,
                })
            })
            .collect()
    }
}

impl DocumentWrite for Tx<'_, '_> {
    fn save_document(&mut self, rec: &DocumentRecord, bytes: &[u8]) -> CoreResult<DocumentRecord> {
        let n: i64 = col(
            &self.query_one(
                "SELECT count(*) AS n FROM documents WHERE case_id = $1 AND kind = $2 AND copy = $3",
                &[&rec.case_id.0, &rec.kind.as_str(), &rec.copy.as_str()],
            )?,
            "n",
        )?;
        let mut out = rec.clone();
        // The same logical name as the embedded store's file, so a record reads the same on
        // both backends (here it names the row, not a file).
        out.path = rec.stored_path(n + 1, bytes);
        out.sha256 = hex::encode(Sha256::digest(bytes));
        out.bytes = bytes.len() as i64;
        // Returned as it will read back: `timestamptz` keeps microseconds.
        out.at = chrono::DateTime::parse_from_rfc3339(&unlockdesk_store::audit::ts_text(&rec.at))
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or(rec.at);
        let content = match self.keys {
            Some(k) => k.seal_bytes(&out.id, bytes)?,
            None => bytes.to_vec(),
        };
        self.execute(
            "INSERT INTO documents (id, case_id, kind, copy, path, sha256, bytes, content, at, by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &out.id,
                &out.case_id.0,
                &out.kind.as_str(),
                &out.copy.as_str(),
                &out.path,
                &out.sha256,
                &out.bytes,
                &content,
                &out.at,
                &out.by.as_str(),
            ],
        )?;
        Ok(out)
    }
}
