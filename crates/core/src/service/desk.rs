//! The supervisors' authorization desk (待授权): the queue, opening a request, the teller's
//! request to confirm an unlock, and the queue's events from the audit trail. The rules of what
//! waits and for whom are in [`crate::authorizations`].

use super::{draft, Service};
use crate::authorizations::{self, AuthorizationEvents, AuthorizationItem, OPENED_ACTION};
use crate::dto::{CaseView, UnlockInput};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::model::*;
use crate::permissions::Action;
use crate::ports::*;
use crate::workflow::Event;

/// States in which something may wait for a supervisor.
const WAITING_STATES: &[CaseState] = &[
    CaseState::IdentityVerified,
    CaseState::FormRecorded,
    CaseState::FormSigned,
    CaseState::Submitted,
    CaseState::Approved,
    CaseState::UnlockFailed,
];

/// The most audit events one read of the queue's events scans.
pub const MAX_EVENTS_PAGE: u32 = 1000;

impl<S: Store> Service<S> {
    /// Every request of the branch waiting for a supervisor, oldest first, as `actor` sees it
    /// (a maker's own request is listed, never actionable). Errors: `forbidden`.
    pub(crate) fn authorization_queue(&self, actor: &Actor) -> CoreResult<Vec<AuthorizationItem>> {
        self.permit(actor, Action::ViewCases, None)?;
        let mut items = self.store.read(|tx| {
            let q = CaseQuery {
                states: WAITING_STATES.to_vec(),
                limit: Some(500),
                ..CaseQuery::default()
            };
            let branch = super::branch_of(tx)?;
            let mut items = Vec::new();
            let mut page = tx.list_cases(&q, &branch.time_zone)?;
            loop {
                let next = page.last().map(CaseCursor::after);
                for s in &page {
                    let Some(case) = tx.case(s.id)? else { continue };
                    let history = tx.case_history(s.id)?;
                    items.extend(authorizations::item(&case, &history, actor));
                }
                if page.len() < 500 {
                    break;
                }
                page = tx.list_cases(
                    &CaseQuery {
                        after: next,
                        ..q.clone()
                    },
                    &branch.time_zone,
                )?;
            }
            Ok(items)
        })?;
        items.sort_by(|a, b| {
            (a.waiting_since, &a.case_number).cmp(&(b.waiting_since, &b.case_number))
        });
        Ok(items)
    }

    /// A supervisor opens the request waiting on `case_id`: recorded in the audit trail
    /// (`authorization-opened`), so the other supervisors see who has it. Opening one another
    /// supervisor has takes it over. Errors: `forbidden` (not a supervisor), `four-eyes` (a
    /// maker of the case, or the one who asked; audited), `not-found`, `illegal-transition`
    /// (nothing waits on the case).
    pub(crate) fn open_authorization(
        &self,
        actor: &Actor,
        case_id: CaseId,
    ) -> CoreResult<AuthorizationItem> {
        self.permit(actor, Action::Authorize, Some(case_id))?;
        let now = self.now();
        let mut refused: Option<String> = None;
        let res = self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let case = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
            let history = tx.case_history(case_id)?;
            let item = authorizations::item(&case, &history, actor).ok_or_else(|| {
                CoreError::new(
                    ErrorCode::IllegalTransition,
                    format!(
                        "nothing waits for a supervisor on case {} (it is '{}')",
                        case.case_number, case.state
                    ),
                )
            })?;
            if let Some(why) = &item.not_actionable {
                refused = Some(why.clone());
                return Err(CoreError::new(ErrorCode::FourEyes, why.clone()));
            }
            tx.append_audit(&draft(
                now,
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
                Some(case_id),
                OPENED_ACTION,
                None,
                None,
                "",
                Outcome::Ok,
                &serde_json::json!({ "kind": item.kind.as_str() }).to_string(),
            ))?;
            Ok(AuthorizationItem {
                opened_by: Some(actor.staff_id().clone()),
                opened_at: Some(now),
                ..item
            })
        });
        if let (Err(_), Some(why)) = (&res, &refused) {
            self.audit_refusal(
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
                Some(case_id),
                OPENED_ACTION,
                why,
            );
        }
        res
    }

    /// The teller asks a supervisor to confirm the unlock the operator carried out (the
    /// operator's reference and how the customer was notified): the request waits in the
    /// supervisors' queue. Needs an approved case (or one whose unlock failed) with an operator
    /// contact logged since. Errors: `invalid` field `operator_reference` rule `required`,
    /// `illegal-transition`, `no-operator-contact`, `authority-freeze`.
    pub(crate) fn request_confirm_unlock(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &UnlockInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::ConfirmUnlock, Some(case_id))?;
        let reference = input.operator_reference.trim();
        if reference.is_empty() {
            return Err(CoreError::field(
                "operator_reference",
                "required",
                "the operator's reference is required",
            ));
        }
        if reference.chars().count() > 64 || reference.chars().any(char::is_control) {
            return Err(CoreError::field(
                "operator_reference",
                "format",
                "the operator's reference is 1-64 printable characters",
            ));
        }
        let request = UnlockRequest {
            operator_reference: reference.to_string(),
            notified_via: input.notified_via,
            by: actor.staff_id().clone(),
            at: self.now(),
        };
        self.transition(
            actor,
            case_id,
            idem,
            "request-confirm-unlock",
            move |_, _| Ok(Event::RequestConfirmUnlock(request.clone())),
            |c| {
                serde_json::json!({
                    "operator_reference": c.unlock_request.as_ref().map(|r| r.operator_reference.as_str()),
                    "notified_via": c.unlock_request.as_ref().map(|r| r.notified_via.as_str()),
                })
                .to_string()
            },
        )
    }

    /// The queue's events after audit position `after` (at most [`MAX_EVENTS_PAGE`] audit
    /// events scanned, capped by `limit`); `after` = `None` starts at the head of the trail
    /// (no events, the position to read on from). Events carry no personal data. Errors:
    /// `forbidden`.
    pub(crate) fn authorization_events(
        &self,
        actor: &Actor,
        after: Option<i64>,
        limit: u32,
    ) -> CoreResult<AuthorizationEvents> {
        self.permit(actor, Action::ViewCases, None)?;
        let limit = limit.clamp(1, MAX_EVENTS_PAGE);
        self.store.read(|tx| {
            let Some(after) = after else {
                return Ok(AuthorizationEvents {
                    events: Vec::new(),
                    last_seq: tx.audit_head()?,
                });
            };
            let after = after.max(0);
            let scanned = tx.audit_events(after.saturating_add(1), limit)?;
            let last_seq = match scanned.last() {
                Some(e) => e.seq,
                // A position past the head (a store restored from an older backup) reads on
                // from the head, never waits for a seq that may not come for days.
                None => tx.audit_head()?.min(after),
            };
            Ok(AuthorizationEvents {
                last_seq,
                events: scanned
                    .iter()
                    .filter_map(authorizations::event_of)
                    .collect(),
            })
        })
    }
}
