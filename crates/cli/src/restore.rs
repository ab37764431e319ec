//! `restore --from FILE`: the backup route named by every "damaged database" message.
//!
//! A sound database gets the backup's content through the SQLite backup API, in place. A
//! damaged one (fails to open, or fails the integrity check) cannot be trusted even to
//! authenticate the person restoring, so the backup is copied and checked beside it, the
//! person authenticates against the backup's own staff accounts, the restore is recorded in
//! the restored chain, and only then is the damaged file moved aside (kept, never deleted)
//! and the copy put in its place.

use std::path::Path;

use unlockdesk_core::*;
use unlockdesk_store::SqliteStore;

use crate::out::Out;
use crate::{local_service, password, Ctx, Fail, Res};

/// Restore the embedded store in the file `db` from `from`.
pub fn run(from: &Path, db: &Path, ctx: &mut Ctx, out: &Out) -> Res<u8> {
    match SqliteStore::open_checked(db) {
        Ok(store) => {
            ctx.svc = Some(local_service(store));
            let actor = ctx.actor()?;
            // Core checks the role, restores, and records it in the restored chain.
            ctx.svc()?.restore(&actor, from)?;
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
            let staged = SqliteStore::stage_restore(from, db)?;
            {
                // Opened as it was checked: never encrypted here (its documents are the live
                // store's).
                let svc = local_service(staged.open()?);
                let pw = password("UNLOCKDESK_PASSWORD", &format!("Password for {id}: "))?;
                let actor = svc.authenticate(&id, &pw, &ctx.terminal)?;
                svc.record_restore(&actor, from, true)?;
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
