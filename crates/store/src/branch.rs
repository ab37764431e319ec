//! The branch profile: one JSON row.

use rusqlite::{params, OptionalExtension};
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::sql_err;
use crate::tx::Tx;

impl BranchRead for Tx<'_> {
    fn branch(&mut self) -> CoreResult<Option<Branch>> {
        let s: Option<String> = self
            .q_row("SELECT data FROM branch WHERE id = 1", [], |r| r.get(0))
            .optional()
            .map_err(sql_err)?;
        s.map(|s| from_json(&s, "branch")).transpose()
    }
}

impl BranchWrite for Tx<'_> {
    fn save_branch(&mut self, b: &Branch) -> CoreResult<()> {
        self
            .exec(
                "INSERT INTO branch (id, data) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                params![json(b)?],
            )
            .map_err(sql_err)?;
        Ok(())
    }
}
