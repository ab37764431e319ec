//! `store copy --to DEST`: the whole store (branch, staff with their password hashes, cases,
//! appointments, printed documents with their bytes, idempotency keys, case number sequences
//! and the audit chain as it is: same seq, hashes and `prev_hash`) from one store into an
//! EMPTY other one, embedded file or PostgreSQL, either way.
//!
//! Everything is read in one read snapshot of the source and written in one write transaction
//! on the destination (nothing is left half-copied), then the destination is checked: the
//! counts equal the source's, its audit chain verifies and ends on the source's head. Only then
//! is success reported. The copy appends nothing to either chain.

use std::sync::Arc;
use std::time::Instant;

use unlockdesk_core::copy::{copy_store, CopyCounts};
use unlockdesk_core::ports::Store;
use unlockdesk_core::*;
use unlockdesk_store::SqliteStore;
use unlockdesk_store_pg::PgStore;

use crate::out::Out;
use crate::{local_service, Ctx, Db, Res};

/// `store copy --to DEST` as an admin of the source store.
pub fn run(ctx: &mut Ctx, dest: &Db, out: &Out) -> Res<u8> {
    let started = Instant::now();
    let counts = match ctx.db.clone() {
        Db::File(p) => {
            let src = Arc::new(SqliteStore::open(&p)?);
            admin_of(ctx, src.clone())?;
            to_dest(&src, dest)?
        }
        Db::Url(u) => {
            let src = Arc::new(PgStore::open(&u)?);
            admin_of(ctx, src.clone())?;
            to_dest(&src, dest)?
        }
    };
    let secs = started.elapsed().as_secs_f64();
    let mut v = serde_json::to_value(&counts).unwrap_or_default();
    v["from"] = ctx.db.display().into();
    v["to"] = dest.display().into();
    v["seconds"] = serde_json::json!((secs * 1000.0).round() / 1000.0);
    tracing::info!(
        cases = counts.cases,
        audit_events = counts.audit_events,
        "store copied"
    );
    out.value(
        &v,
        &format!(
            "copied to {} in {secs:.2} s: {} staff, {} cases, {} appointments, {} documents, \
             {} idempotency keys, {} audit events; the chain verifies",
            dest.display(),
            counts.staff,
            counts.cases,
            counts.appointments,
            counts.documents,
            counts.idempotency_keys,
            counts.audit_events
        ),
    );
    Ok(0)
}

/// Authenticate `--as` on the source store and require an administrator.
fn admin_of<S: Store + 'static>(ctx: &mut Ctx, src: Arc<S>) -> Res<()> {
    ctx.svc = Some(local_service(src));
    let actor = ctx.actor()?;
    if actor.role() != Some(Role::Admin) {
        return Err(
            CoreError::forbidden("store copy needs an administrator of the source store").into(),
        );
    }
    Ok(())
}

fn to_dest<S: Store>(src: &S, dest: &Db) -> CoreResult<CopyCounts> {
    match dest {
        Db::File(p) => copy_store(src, &SqliteStore::open(p)?),
        Db::Url(u) => copy_store(src, &PgStore::open(u)?),
    }
}
