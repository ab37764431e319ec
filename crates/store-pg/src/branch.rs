//! The branch profile: one `jsonb` row.

use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::tx::Tx;

impl BranchRead for Tx<'_, '_> {
    fn branch(&mut self) -> CoreResult<Option<Branch>> {
        self.query_opt("SELECT data FROM branch WHERE id = 1", &[])?
            .map(|r| from_jsonb(col(&r, "data")?, "branch"))
            .transpose()
    }
}

impl BranchWrite for Tx<'_, '_> {
    fn save_branch(&mut self, b: &Branch) -> CoreResult<()> {
        self.execute(
            "INSERT INTO branch (id, data) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            &[&to_jsonb(b)?],
        )?;
        Ok(())
    }
}
