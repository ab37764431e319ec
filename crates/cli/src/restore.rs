//! `restore --from FILE`: the backup route named by every "damaged database" message.
//!
//! A sound database gets the backup's content through the SQLite backup API, in place. A
//! damaged one (fails to open, or fails the integrity check) cannot be trusted even to
//! authenticate the person restoring, so the backup is copied and checked beside it, the
//! person authenticates against the backup's own staff accounts, the restore is recorded in
//! the restored chain, and only then is the damaged file moved aside (kept, never deleted)
//! and the copy put in its place.

use std::path::Path;
use std::sync::Arc;

use unlockdesk_core::ports::{OsEntropy, SystemClock};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;
use unlockdesk_store::SqliteStore;

use crate::out::Out;
use crate::{password, Ctx, Fail, Res};

pub fn run(from: &Path, ctx: &mut Ctx, out: &Out) -> Res<u8> {
    let detail = serde_json::json!({"from": from.display().to_string()});
    match SqliteStore::open_checked(&ctx.db) {
        Ok(store) => {
            ctx.svc = Some(Service::new(
                store,
                Arc::new(SystemClock),
                Arc::new(OsEntropy),
            ));
            let actor = ctx.actor()?;
            permissions::require(
                actor.role.unwrap_or(Role::Auditor),
                permissions::Action::Restore,
            )?;
            let svc = ctx.svc()?;
            svc.store().restore_from(from)?;
            // Recorded in the restored chain, so the restore itself is on the record.
            svc.audit_read(&actor, None, "restore", &detail.to_string())?;
            out.value(
                &serde_json::json!({"restored": from.display().to_string()}),
                &format!("restored from {}", from.display()),
            );
            Ok(0)
        }
        Err(e) if e.code == ErrorCode::Storage => {
            tracing::warn!(error = %e.message, "the database is damaged: restoring by replacing the file");
            let Some(id) = ctx.as_staff.clone() else {
                return Err(Fail::Usage(
                    "this command changes data: pass --as STAFF_ID".into(),
                ));
            };
            let staged = SqliteStore::stage_restore(from, &ctx.db)?;
            {
                let svc = Service::new(
                    SqliteStore::open(staged.path())?,
                    Arc::new(SystemClock),
                    Arc::new(OsEntropy),
                );
                let pw = password("UNLOCKDESK_PASSWORD", &format!("Password for {id}: "))?;
                let actor = svc.actor_for(&id, &pw, &ctx.terminal)?;
                permissions::require(
                    actor.role.unwrap_or(Role::Auditor),
                    permissions::Action::Restore,
                )?;
                let detail = serde_json::json!({"from": from.display().to_string(), "replaced_damaged": true});
                svc.audit_read(&actor, None, "restore", &detail.to_string())?;
            } // closed: the copy's WAL is folded in before it moves
            let aside = staged.commit()?;
            let aside = aside.map(|p| p.display().to_string());
            let text = match &aside {
                Some(p) => format!(
                    "restored from {}; the damaged database was kept as {p}",
                    from.display()
                ),
                None => format!("restored from {}", from.display()),
            };
            out.value(&serde_json::json!({"restored": from.display().to_string(), "damaged_kept_as": aside}), &text);
            Ok(0)
        }
        Err(e) => Err(e.into()),
    }
}
