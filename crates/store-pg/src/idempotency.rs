//! Idempotency keys of applied steps. Keys hold across terminals: the key is the primary key,
//! and write transactions are serialised (see the crate docs), so the second terminal sending
//! a key sees the first one's row and replays. A case step reads the key before it is
//! serialised (`transact_optimistic`): when the first terminal's step commits in between, the
//! second one's version check (or the key's primary key) fails, and the service runs it again
//! serialised, where it sees the row and replays.

use chrono::{DateTime, Utc};
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::tx::Tx;

impl IdempotencyRead for Tx<'_, '_> {
    fn idempotent(&mut self, key: &str) -> CoreResult<Option<IdempotentCall>> {
        self.query_opt(
            "SELECT case_id, use_case FROM idempotency WHERE key = $1",
            &[&key],
        )?
        .map(|r| {
            Ok(IdempotentCall {
                case_id: CaseId(col(&r, "case_id")?),
                use_case: col(&r, "use_case")?,
            })
        })
        .transpose()
    }
}

impl IdempotencyWrite for Tx<'_, '_> {
    fn remember_idempotent(
        &mut self,
        key: &str,
        case_id: CaseId,
        use_case: &str,
        at: DateTime<Utc>,
    ) -> CoreResult<()> {
        self.execute(
            "INSERT INTO idempotency (key, case_id, use_case, at) VALUES ($1, $2, $3, $4)",
            &[&key, &case_id.0, &use_case, &at],
        )?;
        Ok(())
    }
}
