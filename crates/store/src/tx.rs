//! [`Tx`]: one rusqlite transaction, the handle every port of the store is implemented on
//! (one module per aggregate: `branch`, `staff`, `cases`, `appointments`, `audit`,
//! `idempotency`, `documents`, `sessions`). A read snapshot hands it out as `&mut dyn ReadTx`,
//! so reads cannot reach the write methods.

use std::path::Path;

use rusqlite::{params, Transaction};
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::sql_err;

pub(crate) struct Tx<'a> {
    pub tx: &'a Transaction<'a>,
    pub dir: &'a Path,
    /// The store's data keys when it is encrypted (documents are sealed with them).
    pub keys: Option<&'a crate::keys::Keyring>,
}

/// A document's bytes as they go to disk: sealed under the current data key when the store
/// is encrypted, as they are otherwise.
pub(crate) fn seal(
    keys: Option<&crate::keys::Keyring>,
    rel: &str,
    bytes: &[u8],
) -> CoreResult<Vec<u8>> {
    match keys {
        Some(k) => crate::keys::seal_document(&k.current, rel, bytes),
        None => Ok(bytes.to_vec()),
    }
}

/// A document's bytes as read from disk, opened when sealed. Errors: `storage` when it is
/// sealed and cannot be opened (truncated, altered, another key), when an encrypted store
/// finds it unsealed, or when a plaintext store finds it sealed.
pub(crate) fn unseal(
    keys: Option<&crate::keys::Keyring>,
    rel: &str,
    bytes: Vec<u8>,
) -> CoreResult<Vec<u8>> {
    match (keys, crate::keys::is_sealed_document(&bytes)) {
        (Some(k), _) => crate::keys::open_document(k, rel, &bytes),
        (None, true) => Err(CoreError::storage(format!(
            "the document {rel} is encrypted but the store was opened without its key"
        ))),
        (None, false) => Ok(bytes),
    }
}

impl Tx<'_> {
    /// `query_row` on a cached statement (the connection keeps the parsed SQL).
    pub(crate) fn q_row<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.tx.prepare_cached(sql)?.query_row(params, f)
    }

    /// `execute` on a cached statement.
    pub(crate) fn exec<P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
    ) -> rusqlite::Result<usize> {
        self.tx.prepare_cached(sql)?.execute(params)
    }

    /// Insert appointments and their name-prefix rows (migration 0004 moved those from a
    /// trigger to here: one prepared statement instead of a trigger program per row).
    pub(crate) fn insert_appointment_rows(&self, list: &[Appointment]) -> CoreResult<()> {
        let mut st = self.tx.prepare_cached(APPT_INSERT).map_err(sql_err)?;
        let mut prefixes = self.tx.prepare_cached(PREFIX_INSERT).map_err(sql_err)?;
        for a in list {
            let slot = slot_text(&a.slot_start);
            st.execute(params![
                a.id.to_string(),
                a.reference,
                a.name,
                a.phone,
                a.id_type.as_str(),
                a.id_number,
                a.wallet_operator,
                a.lock_cause.as_str(),
                slot,
                slot_text(&a.slot_end),
                a.notes,
                a.status.as_str(),
                a.case_id.map(|c| c.to_string()),
                tail4(&a.phone),
                tail4(&a.id_number),
                a.slot_start.date().to_string()
            ])
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    CoreError::conflict(format!("appointment {} exists", a.reference))
                }
                e => sql_err(e),
            })?;
            let rowid = self.tx.last_insert_rowid();
            for prefix in name_prefixes(&a.name) {
                prefixes
                    .execute(params![prefix, slot, rowid])
                    .map_err(sql_err)?;
            }
        }
        Ok(())
    }

    pub(crate) fn branch_tz(&self) -> CoreResult<chrono_tz::Tz> {
        Ok(BranchRead::branch(&mut Tx {
            tx: self.tx,
            dir: self.dir,
            keys: self.keys,
        })?
        .map(|b| b.tz())
        .unwrap_or(chrono_tz::Asia::Shanghai))
    }
    pub(crate) fn case_columns(&self, c: &Case) -> CoreResult<(String, String, String)> {
        let (id_tail, phone_tail) = case_tails(c);
        let tz = self.branch_tz()?;
        Ok((
            id_tail,
            phone_tail,
            c.opened_at.with_timezone(&tz).date_naive().to_string(),
        ))
    }
}
