//! The supervisors' queue (待授权): which requests of the branch wait for a supervisor, and the
//! live events that move it. Pure rules over a case and its audit history; the use cases that
//! read the store are in `service/desk.rs`.
//!
//! A request waits (bank practice of 远程授权: the teller's terminal sends the request to a
//! supervisor's own terminal with its key facts, 授权要素):
//! * `authorize`: a submitted case, from the submit until a supervisor decides it (approve,
//!   return for more information, reject) or it is cancelled;
//! * `co-check`: an identity document other than the resident ID card (双人审核), from the
//!   teller's identity check until a supervisor co-checks it;
//! * `confirm-unlock`: the teller's request, after the operator contact, that a supervisor
//!   confirm the unlock, until it is confirmed or a failure is recorded.
//!
//! Four-eyes (maker-checker): a request is never actionable for a maker of its case, nor for
//! the person who asked for it; the use cases refuse those anyway.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::masking;
pub use crate::model::AuthorizationKind;
use crate::model::*;
use crate::ports::{AuditEvent, Outcome};

/// The audit action recorded when a supervisor opens a request (it is theirs until decided;
/// another supervisor sees who has it).
pub const OPENED_ACTION: &str = "authorization-opened";

/// One request waiting for a supervisor: what the queue screen and
/// `unlockdesk-cli authorizations list --json` show. Personal data masked as on every screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AuthorizationItem {
    pub case_id: CaseId,
    pub case_number: String,
    pub kind: AuthorizationKind,
    pub state: CaseState,
    /// Customer name, masked (`张*`).
    pub customer_name: String,
    pub lock_cause: Option<LockCause>,
    /// Staff ids of the case's makers (teller steps), in order.
    pub makers: Vec<StaffId>,
    /// Who asked: the submitting teller, the teller who checked the document, or the one who
    /// asked for the unlock's confirmation.
    pub requested_by: StaffId,
    /// The terminal the request came from (`desk:<host>`, `cli:<user>`, a branch terminal id).
    pub terminal: String,
    /// When the request started waiting (RFC 3339, UTC).
    pub waiting_since: DateTime<Utc>,
    /// The supervisor who last opened the request since it started waiting, if any.
    pub opened_by: Option<StaffId>,
    pub opened_at: Option<DateTime<Utc>>,
    /// The viewer may decide it: a supervisor who is neither a maker of the case nor the one who
    /// asked.
    pub actionable: bool,
    /// Why it is not actionable for this viewer (a sentence), when it is not.
    pub not_actionable: Option<String>,
}

/// A change of the queue, from the audit trail: `requested` (a request started waiting),
/// `decided` (a supervisor acted on it), `opened` (a supervisor opened it), `withdrawn` (the
/// case left the queue otherwise: cancelled, refused, a failed unlock recorded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AuthorizationEvent {
    /// The audit event's position in the chain: events come in this order, and a client that
    /// reconnects asks for the events after the last `seq` it saw.
    #[ts(type = "number")]
    pub seq: i64,
    /// `requested`, `decided`, `opened` or `withdrawn`.
    pub event: String,
    pub case_id: CaseId,
    pub kind: Option<AuthorizationKind>,
    /// For `decided`: the audit action (`approve`, `return-for-info`, `reject`,
    /// `cocheck-identity`, `confirm-unlock`).
    pub action: String,
    /// Who acted (staff id).
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A page of [`AuthorizationEvent`]s: the events after the asked position and the position
/// read up to (pass it back to read on; it moves even when no event of the queue was found).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AuthorizationEvents {
    pub events: Vec<AuthorizationEvent>,
    #[ts(type = "number")]
    pub last_seq: i64,
}

/// What waits on `case` for a supervisor, from the case and its audit history (oldest first):
/// kind, who asked, from which terminal, since when, and the seq of the audit event that started
/// it. `None` when nothing waits.
pub fn pending(
    case: &Case,
    history: &[AuditEvent],
) -> Option<(AuthorizationKind, StaffId, String, DateTime<Utc>, i64)> {
    let last_ok = |action: &str| {
        history
            .iter()
            .rev()
            .find(|e| e.action == action && e.outcome == Outcome::Ok)
    };
    let from_event = |kind, action: &str, fallback_by: &StaffId, fallback_at| {
        Some(match last_ok(action) {
            Some(e) => (
                kind,
                StaffId::system(&e.staff_id),
                e.terminal.clone(),
                e.at,
                e.seq,
            ),
            None => (kind, fallback_by.clone(), String::new(), fallback_at, 0),
        })
    };
    match case.state {
        CaseState::Submitted => {
            let by = case.makers.last().unwrap_or(&case.opened_by);
            from_event(AuthorizationKind::Authorize, "submit", by, case.updated_at)
        }
        CaseState::IdentityVerified | CaseState::FormRecorded | CaseState::FormSigned => {
            let id = case.identity.as_ref()?;
            if !id.needs_cocheck || id.cochecked_by.is_some() {
                return None;
            }
            let mut p = from_event(
                AuthorizationKind::CoCheck,
                "verify-identity",
                &id.checked_by,
                id.checked_at,
            )?;
            // The request started with the check that asked for it, whatever came after.
            p.3 = id.checked_at;
            Some(p)
        }
        CaseState::Approved | CaseState::UnlockFailed => {
            let r = case.unlock_request.as_ref()?;
            let mut p = from_event(
                AuthorizationKind::ConfirmUnlock,
                "request-confirm-unlock",
                &r.by,
                r.at,
            )?;
            p.1 = r.by.clone();
            p.3 = r.at;
            Some(p)
        }
        _ => None,
    }
}

/// The queue's row for `case` as `viewer` sees it, or `None` when nothing waits.
pub fn item(case: &Case, history: &[AuditEvent], viewer: &Actor) -> Option<AuthorizationItem> {
    let (kind, requested_by, terminal, since, started_seq) = pending(case, history)?;
    let opened = history.iter().rev().find(|e| {
        e.action == OPENED_ACTION
            && e.outcome == Outcome::Ok
            && e.seq > started_seq
            && e.at >= since
            && opened_kind(e) == Some(kind)
    });
    let not_actionable = not_actionable(case, kind, &requested_by, viewer);
    Some(AuthorizationItem {
        case_id: case.id,
        case_number: case.case_number.clone(),
        kind,
        state: case.state,
        customer_name: masking::name(&case.customer_name),
        lock_cause: case.lock_cause,
        makers: case.makers.clone(),
        requested_by,
        terminal,
        waiting_since: since,
        opened_by: opened.map(|e| StaffId::system(&e.staff_id)),
        opened_at: opened.map(|e| e.at),
        actionable: not_actionable.is_none(),
        not_actionable,
    })
}

/// Why `viewer` may not act on the request (a sentence), or `None` when they may.
pub fn not_actionable(
    case: &Case,
    kind: AuthorizationKind,
    requested_by: &StaffId,
    viewer: &Actor,
) -> Option<String> {
    let who = viewer.staff_id();
    if viewer.role() != Some(Role::Supervisor) {
        Some("only a supervisor authorizes".into())
    } else if case.is_maker(who) {
        Some(format!(
            "four-eyes: {who} did a teller step on this case and may not authorize it"
        ))
    } else if kind == AuthorizationKind::ConfirmUnlock && requested_by == who {
        Some(format!(
            "four-eyes: {who} asked for this confirmation and may not give it"
        ))
    } else {
        None
    }
}

fn opened_kind(e: &AuditEvent) -> Option<AuthorizationKind> {
    let d: serde_json::Value = serde_json::from_str(&e.detail).ok()?;
    d.get("kind")?.as_str()?.parse().ok()
}

/// The queue event an audit event stands for, if any (refused attempts never move the queue).
pub fn event_of(e: &AuditEvent) -> Option<AuthorizationEvent> {
    use AuthorizationKind as K;
    if e.outcome != Outcome::Ok {
        return None;
    }
    let case_id = e.case_id?;
    let from_kind = || match e.from_state? {
        CaseState::Submitted => Some(K::Authorize),
        CaseState::IdentityVerified | CaseState::FormRecorded | CaseState::FormSigned => {
            Some(K::CoCheck)
        }
        CaseState::Approved | CaseState::UnlockFailed => Some(K::ConfirmUnlock),
        _ => None,
    };
    let (event, kind) = match e.action.as_str() {
        "submit" => ("requested", Some(K::Authorize)),
        "approve" | "return-for-info" | "reject" => ("decided", Some(K::Authorize)),
        "verify-identity" => {
            let d: serde_json::Value = serde_json::from_str(&e.detail).ok()?;
            let refused = e.to_state == Some(CaseState::RefusedIdentity);
            if d.get("cocheck").and_then(|v| v.as_bool()) == Some(true) && !refused {
                ("requested", Some(K::CoCheck))
            } else if from_kind() == Some(K::CoCheck) {
                // Checked again with a document that needs no co-check, or refused: a co-check
                // that waited is gone.
                ("withdrawn", Some(K::CoCheck))
            } else {
                return None;
            }
        }
        "record-form" | "amend-form"
            if matches!(
                e.to_state,
                Some(CaseState::RefusedAuthorityFreeze | CaseState::RefusedIdentity)
            ) =>
        {
            ("withdrawn", Some(from_kind()?))
        }
        "cocheck-identity" => ("decided", Some(K::CoCheck)),
        "request-confirm-unlock" => ("requested", Some(K::ConfirmUnlock)),
        "confirm-unlock" => ("decided", Some(K::ConfirmUnlock)),
        OPENED_ACTION => ("opened", opened_kind(e)),
        "record-unlock-failure" => ("withdrawn", Some(K::ConfirmUnlock)),
        "cancel" | "refuse-authority-freeze" => ("withdrawn", Some(from_kind()?)),
        _ => return None,
    };
    Some(AuthorizationEvent {
        seq: e.seq,
        event: event.into(),
        case_id,
        kind,
        action: e.action.clone(),
        by: e.staff_id.clone(),
        at: e.at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(action: &str, from: CaseState, to: CaseState, detail: &str) -> AuditEvent {
        AuditEvent {
            seq: 7,
            at: chrono::Utc::now(),
            staff_id: "tel01".into(),
            role: Some(Role::Teller),
            terminal: "t".into(),
            case_id: Some(CaseId::parse("7c1e6f0e-5d4a-4b8e-9a43-1f2d3c4b5a69").unwrap()),
            action: action.into(),
            from_state: Some(from),
            to_state: Some(to),
            reason: String::new(),
            outcome: Outcome::Ok,
            detail: detail.into(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    fn ev(e: &AuditEvent) -> Option<(String, Option<AuthorizationKind>)> {
        event_of(e).map(|x| (x.event, x.kind))
    }

    #[test]
    fn every_way_a_request_starts_or_ends_is_an_event() {
        use AuthorizationKind as K;
        use CaseState as S;
        let r = |s: &str| s.to_string();
        let iv = S::IdentityVerified;
        assert_eq!(
            ev(&audit(
                "verify-identity",
                S::CheckedIn,
                iv,
                r#"{"cocheck":true}"#
            )),
            Some((r("requested"), Some(K::CoCheck)))
        );
        // Checked again with a resident ID card, or refused: the co-check that waited is gone.
        assert_eq!(
            ev(&audit("verify-identity", iv, iv, r#"{"cocheck":false}"#)),
            Some((r("withdrawn"), Some(K::CoCheck)))
        );
        assert_eq!(
            ev(&audit(
                "verify-identity",
                iv,
                S::RefusedIdentity,
                r#"{"cocheck":true}"#
            )),
            Some((r("withdrawn"), Some(K::CoCheck)))
        );
        assert_eq!(
            ev(&audit(
                "verify-identity",
                S::CheckedIn,
                iv,
                r#"{"cocheck":false}"#
            )),
            None
        );
        assert_eq!(
            ev(&audit(
                "amend-form",
                S::FormSigned,
                S::RefusedAuthorityFreeze,
                "{}"
            )),
            Some((r("withdrawn"), Some(K::CoCheck)))
        );
        assert_eq!(ev(&audit("record-form", iv, S::FormRecorded, "{}")), None);
        assert_eq!(
            ev(&audit("cancel", S::Submitted, S::Cancelled, "{}")),
            Some((r("withdrawn"), Some(K::Authorize)))
        );
        assert_eq!(
            ev(&audit("submit", S::FormSigned, S::Submitted, "{}")),
            Some((r("requested"), Some(K::Authorize)))
        );
        let mut refused = audit("approve", S::Submitted, S::Approved, "{}");
        refused.outcome = Outcome::Refused;
        assert_eq!(ev(&refused), None, "a refused attempt moves nothing");
    }
}
