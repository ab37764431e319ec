//! Idempotency keys of applied steps.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::sql_err;
use crate::tx::Tx;

impl IdempotencyRead for Tx<'_> {
    fn idempotent(&mut self, key: &str) -> CoreResult<Option<IdempotentCall>> {
        let s: Option<(String, String)> = self
            .q_row(
                "SELECT case_id, use_case FROM idempotency WHERE key = ?1",
                params![key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sql_err)?;
        s.map(|(case_id, use_case)| {
            Ok(IdempotentCall {
                case_id: CaseId::parse(&case_id)?,
                use_case,
            })
        })
        .transpose()
    }
}

impl IdempotencyWrite for Tx<'_> {
    fn remember_idempotent(
        &mut self,
        key: &str,
        case_id: CaseId,
        use_case: &str,
        at: DateTime<Utc>,
    ) -> CoreResult<()> {
        self.exec(
            "INSERT INTO idempotency (key, case_id, use_case, at) VALUES (?1, ?2, ?3, ?4)",
            params![key, case_id.to_string(), use_case, ts(at)],
        )
        .map_err(sql_err)?;
        Ok(())
    }
}
