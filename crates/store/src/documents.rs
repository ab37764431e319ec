//! Printed documents: the PDF file under `documents/` (written and fsynced before its row
//! commits) and its row with the SHA-256.

use rusqlite::params;
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use sha2::{Digest, Sha256};

use crate::codec::*;
use crate::sql_err;
use crate::tx::Tx;

const DOCUMENT_INSERT: &str =
    "INSERT INTO documents (id, case_id, kind, copy, path, sha256, bytes, at, by) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

impl DocumentRead for Tx<'_> {
    fn document_bytes(&mut self, rec: &DocumentRecord) -> CoreResult<Vec<u8>> {
        let abs = self.dir.join(&rec.path);
        let bytes = std::fs::read(&abs).map_err(|e| {
            CoreError::storage(format!("printed document {} is missing: {e}", rec.path))
        })?;
        let bytes = crate::tx::unseal(self.keys, &rec.path, bytes)?;
        if hex::encode(Sha256::digest(&bytes)) != rec.sha256 {
            return Err(CoreError::storage(format!(
                "printed document {} does not match its recorded SHA-256: it was altered",
                rec.path
            )));
        }
        Ok(bytes)
    }

    fn documents(&mut self, case_id: CaseId) -> CoreResult<Vec<DocumentRecord>> {
        let mut st = self
            .tx
            .prepare_cached("SELECT id, case_id, kind, copy, path, sha256, bytes, at, by FROM documents WHERE case_id = ?1 ORDER BY at")
            .map_err(sql_err)?;
        let rows = st
            .query_map(params![case_id.to_string()], |r| {
                Ok((
                    r.get::<_, String>("id")?,
                    r.get::<_, String>("kind")?,
                    r.get::<_, String>("copy")?,
                    r.get::<_, String>("path")?,
                    r.get::<_, String>("sha256")?,
                    r.get::<_, i64>("bytes")?,
                    r.get::<_, String>("at")?,
                    r.get::<_, String>("by")?,
                ))
            })
            .map_err(sql_err)?;
        rows.map(|r| {
            let (id, kind, copy, path, sha256, bytes, at, by) = r.map_err(sql_err)?;
            Ok(DocumentRecord {
                id,
                case_id,
                kind: kind.parse()?,
                copy: copy.parse()?,
                path,
                sha256,
                bytes,
                at: parse_ts(&at)?,
                by: StaffId::parse(&by)?,
            })
        })
        .collect()
    }
}

impl DocumentWrite for Tx<'_> {
    fn save_document(&mut self, rec: &DocumentRecord, bytes: &[u8]) -> CoreResult<DocumentRecord> {
        let n: i64 = self
            .q_row(
                "SELECT COUNT(*) FROM documents WHERE case_id = ?1 AND kind = ?2 AND copy = ?3",
                params![
                    rec.case_id.to_string(),
                    rec.kind.as_str(),
                    rec.copy.as_str()
                ],
                |r| r.get(0),
            )
            .map_err(sql_err)?;
        let rel = rec.stored_path(n + 1, bytes);
        let abs = self.dir.join(&rel);
        if let Some(p) = abs.parent() {
            std::fs::create_dir_all(p)
                .map_err(|e| CoreError::storage(format!("cannot create {}: {e}", p.display())))?;
        }
        // Written (sealed when the store is encrypted), synced and renamed into place before
        // the row commits: a recorded document always exists whole.
        crate::keys::write_atomic(&abs, &crate::tx::seal(self.keys, &rel, bytes)?)?;
        let mut out = rec.clone();
        out.path = rel;
        out.sha256 = hex::encode(Sha256::digest(bytes));
        out.bytes = bytes.len() as i64;
        self.exec(
            DOCUMENT_INSERT,
            params![
                out.id,
                out.case_id.to_string(),
                out.kind.as_str(),
                out.copy.as_str(),
                out.path,
                out.sha256,
                out.bytes,
                ts(out.at),
                out.by.as_str()
            ],
        )
        .map_err(sql_err)?;
        Ok(out)
    }
}
