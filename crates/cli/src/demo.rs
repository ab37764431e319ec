//! `demo`: the core's synthetic demo data on an empty store.

use serde_json::Value;

use crate::{Res, Svc};

/// Fill an empty store (see `unlockdesk_core::demo`).
pub fn run(svc: &Svc, extra_appointments: u64) -> Res<Value> {
    Ok(unlockdesk_core::demo::load(svc, extra_appointments)?)
}
