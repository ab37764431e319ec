//! Copying a whole store into an empty one (`store copy`, and a PostgreSQL store's backup as an
//! embedded-store file): branch, staff with their password hashes, cases, appointments,
//! printed documents with their bytes, idempotency keys, case number sequences, legal holds,
//! the destruction register, the outbox (queued and delivered customer notifications, settle
//! jobs) and the audit chain as it is (same seq, hashes and `prev_hash`).
//!
//! Everything is read in one read snapshot of the source and written in one write transaction
//! on the destination (nothing is left half-copied), then the destination is checked: the
//! counts equal the source's, its audit chain verifies and ends on the source's head. The copy
//! appends nothing to either chain. Only the ports are used: no IO of its own.

use chrono::NaiveDate;

use crate::error::{CoreError, CoreResult};
use crate::model::*;
use crate::ports::{self, DocumentRecord, IdempotencyRecord, Store};

/// Everything a store holds, as read from one snapshot.
struct Snapshot {
    branch: Option<Branch>,
    staff: Vec<Staff>,
    cases: Vec<Case>,
    appointments: Vec<Appointment>,
    documents: Vec<(DocumentRecord, Vec<u8>)>,
    idempotency: Vec<IdempotencyRecord>,
    case_seqs: Vec<(NaiveDate, u32)>,
    audit: Vec<ports::AuditEvent>,
    holds: Vec<LegalHold>,
    batches: Vec<PurgeBatch>,
    outbox: Vec<crate::operator::OutboxMessage>,
}

/// What a copy moved (the JSON report of `store copy`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CopyCounts {
    pub staff: usize,
    pub cases: usize,
    pub appointments: usize,
    pub documents: usize,
    pub document_bytes: usize,
    pub idempotency_keys: usize,
    pub case_sequences: usize,
    pub audit_events: usize,
    pub legal_holds: usize,
    pub purge_batches: usize,
    /// Outbox messages (notifications and settle jobs), whatever their status.
    pub outbox_messages: usize,
    /// The hash of the last audit event (empty for an empty chain).
    pub audit_head: String,
}

/// Page size of the audit trail read.
const AUDIT_PAGE: u32 = 5_000;

fn snapshot<S: Store>(src: &S) -> CoreResult<Snapshot> {
    src.read(|r| {
        let cases = r.all_cases()?;
        let mut documents = Vec::new();
        for rec in r.all_documents()? {
            let bytes = r.document_bytes(&rec)?;
            documents.push((rec, bytes));
        }
        let mut audit = Vec::new();
        loop {
            let page = r.audit_events(audit.len() as i64 + 1, AUDIT_PAGE)?;
            let n = page.len();
            audit.extend(page);
            if n < AUDIT_PAGE as usize {
                break;
            }
        }
        Ok(Snapshot {
            branch: r.branch()?,
            staff: r.list_staff()?,
            cases,
            appointments: r.all_appointments()?,
            documents,
            idempotency: r.all_idempotency()?,
            case_seqs: r.case_seqs()?,
            audit,
            holds: r.legal_holds(None, false)?,
            batches: r.purge_batches()?,
            outbox: r.outbox(None, None, u32::MAX)?,
        })
    })
}

fn counts(s: &Snapshot) -> CopyCounts {
    CopyCounts {
        staff: s.staff.len(),
        cases: s.cases.len(),
        appointments: s.appointments.len(),
        documents: s.documents.len(),
        document_bytes: s.documents.iter().map(|(_, b)| b.len()).sum(),
        idempotency_keys: s.idempotency.len(),
        case_sequences: s.case_seqs.len(),
        audit_events: s.audit.len(),
        legal_holds: s.holds.len(),
        purge_batches: s.batches.len(),
        outbox_messages: s.outbox.len(),
        audit_head: s.audit.last().map(|e| e.hash.clone()).unwrap_or_default(),
    }
}

/// Copy the whole store `src` into the empty store `dst` (one snapshot, one transaction), then
/// check `dst`: the same counts and audit head as the source, and an intact chain.
///
/// Errors: `conflict` when `dst` is not empty (nothing written); `storage` when the
/// destination disagrees after the copy or cannot be written; any read error of the source.
pub fn copy_store<S: Store, D: Store>(src: &S, dst: &D) -> CoreResult<CopyCounts> {
    let empty = dst.read(|r| {
        Ok(r.branch()?.is_none()
            && r.list_staff()?.is_empty()
            && r.count_cases()? == 0
            && r.audit_events(1, 1)?.is_empty()
            && r.all_appointments()?.is_empty())
    })?;
    if !empty {
        return Err(CoreError::conflict(
            "the destination store is not empty: store copy writes only into an empty store",
        ));
    }
    let snap = snapshot(src)?;
    let want = counts(&snap);
    dst.transact(|w| {
        if let Some(b) = &snap.branch {
            w.save_branch(b)?;
        }
        for s in &snap.staff {
            w.insert_staff(s)?;
        }
        // Appointments before cases: a case names the appointment it was opened from.
        w.insert_appointments(&snap.appointments)?;
        for c in &snap.cases {
            w.insert_case(c)?;
        }
        for (rec, bytes) in &snap.documents {
            w.insert_document(rec, bytes)?;
        }
        for k in &snap.idempotency {
            w.remember_idempotent(&k.key, k.call.case_id, &k.call.use_case, k.at)?;
        }
        for (day, last) in &snap.case_seqs {
            w.set_case_seq(*day, *last)?;
        }
        for e in &snap.audit {
            w.insert_audit_event(e)?;
        }
        // The legal holds and the destruction register, as they are (released holds too).
        for h in &snap.holds {
            w.insert_legal_hold(h)?;
        }
        for b in &snap.batches {
            w.insert_purge_batch(b)?;
        }
        // Queued messages stay queued (a worker of the destination sends them), delivered ones
        // stay the cases' history.
        for m in &snap.outbox {
            w.queue_outbox(m)?;
        }
        Ok(())
    })?;
    let got = counts(&snapshot(dst)?);
    if got != want {
        return Err(CoreError::storage(format!(
            "the copy does not match its source (source {want:?}, destination {got:?})"
        )));
    }
    let v = dst.verify_audit()?;
    if !v.ok || v.events as usize != want.audit_events {
        return Err(CoreError::storage(format!(
            "the copied audit chain does not verify ({} events; broken at {:?}: {})",
            v.events,
            v.broken_at,
            v.problem.unwrap_or_default()
        )));
    }
    Ok(want)
}
