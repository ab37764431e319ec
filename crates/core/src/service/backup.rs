//! Backup and restore (administrators): the store writes or reads the snapshot; core checks
//! the actor and records the act in the audit trail.

use std::collections::BTreeSet;
use std::path::Path;

use super::{act, draft, Service};
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
    ///
    /// The destruction register outlives every backup: a purge approved after the backup was
    /// taken is carried into the restored store (its batch written again and its cases
    /// destroyed again, audited `purge-replayed`), so a restore never brings destroyed personal
    /// data back (PIPL Art. 47).
    pub(crate) fn restore(&self, actor: &Actor, src: &Path) -> CoreResult<()> {
        self.permit(actor, Action::Restore, None)?;
        let register: Vec<PurgeBatch> = self.store.read(|tx| {
            self.check_actor(tx, actor)?;
            Ok(tx
                .purge_batches()?
                .into_iter()
                .filter(|b| b.state == PurgeBatchState::Approved)
                .collect())
        })?;
        self.store.restore_from(src)?;
        self.record_restore(actor, src, false)?;
        self.replay_register(actor, register)
    }

    /// Write the approved batches the restored store does not know, oldest first, and destroy
    /// again what they destroyed.
    fn replay_register(&self, actor: &Actor, mut register: Vec<PurgeBatch>) -> CoreResult<()> {
        register.sort_by_key(|b| b.approved_at);
        let now = self.now();
        let swept = self.store.transact(|tx| {
            let known: BTreeSet<String> = tx.purge_batches()?.into_iter().map(|b| b.id).collect();
            let mut swept = Vec::new();
            for b in register.iter().filter(|b| !known.contains(&b.id)) {
                let (Some(approver), Some(at)) = (b.approved_by.clone(), b.approved_at) else {
                    continue;
                };
                for item in b.items.iter().filter(|i| !i.purged.is_empty()) {
                    let Some(case) = tx.case(item.case_id)? else {
                        continue;
                    };
                    let mut next = case.clone();
                    for class in &item.purged {
                        if next.purges.iter().any(|p| p.class == *class) {
                            continue;
                        }
                        next = crate::retention::scrub(
                            &next,
                            PurgeMark {
                                class: *class,
                                batch_id: b.id.clone(),
                                prepared_by: b.prepared_by.clone(),
                                approved_by: approver.clone(),
                                at,
                            },
                        );
                        if *class == RecordClass::Voucher {
                            tx.delete_documents(case.id)?;
                            swept.push(case.id);
                        }
                    }
                    if next.purges.len() == case.purges.len() {
                        continue;
                    }
                    next.version = case.version + 1;
                    tx.update_case(&next, case.version)?;
                    if let (true, Some(a)) = (
                        item.purged.contains(&RecordClass::Case),
                        case.appointment_id,
                    ) {
                        tx.delete_appointment(a)?;
                    }
                    tx.append_audit(&draft(
                        now,
                        actor.staff_id(),
                        actor.role(),
                        actor.terminal(),
                        Some(case.id),
                        "purged",
                        Some(case.state),
                        Some(case.state),
                        "",
                        Outcome::Ok,
                        &serde_json::json!({
                            "batch": b.id,
                            "classes": item.purged,
                            "replayed": true,
                        })
                        .to_string(),
                    ))?;
                }
                if let Some(day) = b.appointments_before {
                    tx.delete_unlinked_appointments(day)?;
                }
                tx.insert_purge_batch(b)?;
                tx.append_audit(&act(
                    now,
                    actor,
                    None,
                    "purge-replayed",
                    &serde_json::json!({ "batch": b.id }).to_string(),
                ))?;
            }
            Ok(swept)
        })?;
        if let Err(e) = self.store.after_purge(&swept) {
            tracing::warn!(error = %e, "restore replayed the register; sweeping its files failed");
        }
        Ok(())
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

impl<S: Store> Service<S> {
    /// Store maintenance the store itself performs (changing its encryption keys): core checks
    /// that `actor` holds the administrators' backup-and-restore right, runs `op` (which returns
    /// what to record, e.g. the new key id, never key material), and audits it as `action`.
    /// Errors: `forbidden`/`unauthenticated` before `op` runs; `op`'s own error, unaudited
    /// (nothing changed).
    pub fn maintain(
        &self,
        actor: &Actor,
        action: &str,
        op: impl FnOnce() -> CoreResult<serde_json::Value>,
    ) -> CoreResult<serde_json::Value> {
        self.permit(actor, Action::Restore, None)?;
        self.store.read(|tx| self.check_actor(tx, actor))?;
        let detail = op()?;
        let text = detail.to_string();
        self.store
            .transact(|tx| tx.append_audit(&act(self.now(), actor, None, action, &text)))?;
        Ok(detail)
    }
}
