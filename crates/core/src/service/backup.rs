//! Backup and restore (administrators): the store writes or reads the snapshot; core checks
//! the actor and records the act in the audit trail.

use std::path::Path;

use super::{act, Service};
use crate::error::CoreResult;
use crate::model::*;
use crate::permissions::Action;
use crate::ports::*;

impl<S: Store> Service<S> {
    /// Write a consistent snapshot to `dest`, then audit it as `backup`.
    pub(crate) fn backup(&self, actor: &Actor, dest: &Path) -> CoreResult<()> {
        self.permit(actor, Action::Backup, None)?;
        self.store.read(|tx| self.check_actor(tx, actor))?;
        self.store.backup_to(dest)?;
        let detail = serde_json::json!({"to": dest.display().to_string()}).to_string();
        self.store
            .transact(|tx| tx.append_audit(&act(self.now(), actor, None, "backup", &detail)))?;
        Ok(())
    }

    /// Replace the content with the backup `src`; the restore is recorded in the restored
    /// chain, so the restore itself is on the record.
    pub(crate) fn restore(&self, actor: &Actor, src: &Path) -> CoreResult<()> {
        self.permit(actor, Action::Restore, None)?;
        self.store.read(|tx| self.check_actor(tx, actor))?;
        self.store.restore_from(src)?;
        self.record_restore(actor, src, false)
    }

    /// Audit a restore as `restore` (after a damaged file was replaced, in the new store).
    pub(crate) fn record_restore(
        &self,
        actor: &Actor,
        src: &Path,
        replaced_damaged: bool,
    ) -> CoreResult<()> {
        self.permit(actor, Action::Restore, None)?;
        let mut detail = serde_json::json!({"from": src.display().to_string()});
        if replaced_damaged {
            detail["replaced_damaged"] = serde_json::json!(true);
        }
        let detail = detail.to_string();
        self.store
            .transact(|tx| tx.append_audit(&act(self.now(), actor, None, "restore", &detail)))?;
        Ok(())
    }
}
