//! The case workflow as a pure state machine: a state, an event carrying its data, one
//! `match` that yields the next state — or a typed refusal naming the state and the event.
//!
//! No IO, no clock: the caller passes the actor and the time. [`step`] returns a [`Step`]: the
//! next case, the facts its audit event records, and the [`Effect`]s the service performs in
//! the same transaction. Each guard on case data is written once ([`guard`]) and used by both
//! [`step`] and [`allowed_events`].
//!
//! Rules (docs/domain.md §1–§2):
//! * main path checked-in → identity-verified → form-recorded → form-signed → submitted →
//!   approved → unlocked → closed; side exits returned-for-info, rejected, cancelled,
//!   unlock-failed, refused-authority-freeze;
//! * a form amended after return-for-info goes back to form-recorded and must be signed again;
//! * four-eyes (maker-checker): whoever authorizes (approve, return, reject, co-check,
//!   confirm-unlock) must not be a maker of the case, checked here on every path;
//! * an authority-ordered freeze, or an anti-fraud restriction the police designated, is never
//!   unlocked at the counter;
//! * evidence before the step (the bank's filing practice): the signed paper is a print of the
//!   current form revision (bank copy, delivered); an unlock is confirmed only with an operator
//!   contact with a result logged since the approval; a case closes with the receipt printed or
//!   a recorded reason why not;
//! * a failed online citizen-identity check (联网核查 mismatch / not found), of the customer or
//!   the agent, stops the case (`refused-identity`) with the reason and the check's reference.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use ts_rs::TS;

use crate::error::{CoreError, ErrorCode};
use crate::model::*;

/// What happened, with its data. The actor and time are passed beside the event.
// Events live for one step; boxing the large records would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The teller checked the identity document (a redo replaces the record).
    VerifyIdentity(IdentityRecord),
    /// A supervisor co-checked a document other than the resident ID card (双人审核).
    CoCheckIdentity { supervisor: StaffId },
    /// The form was captured (or amended); printing follows.
    RecordForm(ApplicationForm),
    /// The teller holds the paper signed by the customer (or agent).
    ConfirmSigned,
    /// Handed to the supervisor for authorization.
    Submit,
    /// The supervisor's decision.
    Authorize {
        decision: Decision,
        supervisor: StaffId,
        reason_code: Option<ReasonCode>,
        reason: String,
    },
    /// A contact with the wallet operator; no state change.
    LogContact(OperatorContact),
    /// The teller asks a supervisor (at their own desk) to confirm the unlock the operator
    /// carried out: the request waits in the supervisors' queue (待授权).
    RequestConfirmUnlock(UnlockRequest),
    /// The operator carried out the unlock; the customer was notified.
    ConfirmUnlock(UnlockRecord),
    /// The operator could not unlock; retry or escalate.
    RecordUnlockFailure(UnlockFailure),
    /// Receipt printed and handed over (or why not: `receipt_waiver`); the case is done.
    Close { receipt_waiver: Option<String> },
    /// The customer withdrew or the teller abandoned the case.
    Cancel { reason: String },
    /// The lock is a court- or police-ordered freeze: refuse and explain the route.
    RefuseAuthorityFreeze { reason: String },
    /// The wallet's status asked of the operator's connector; no state change.
    WalletStatus(WalletCheck),
    /// The unlock asked of the operator's connector under a new idempotency key; the case
    /// waits for the operator's answer (state unchanged).
    RequestUnlock(OperatorUnlock),
    /// The operator confirmed the unlock asked under the case's key.
    OperatorUnlocked {
        reference: String,
        notified_via: NotificationChannel,
    },
    /// The operator refused the unlock asked under the case's key.
    OperatorRejected { code: String, message: String },
    /// A call for the case's key got no final answer (pending, timed out, failed): counted,
    /// the case keeps waiting.
    OperatorNoAnswer { answer: String },
}

/// The event's name: the audit `action` and the thing the UI offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum EventKind {
    VerifyIdentity,
    CocheckIdentity,
    RecordForm,
    ConfirmSigned,
    Submit,
    Approve,
    ReturnForInfo,
    Reject,
    LogContact,
    RequestConfirmUnlock,
    ConfirmUnlock,
    RecordUnlockFailure,
    Close,
    Cancel,
    RefuseAuthorityFreeze,
    WalletStatus,
    RequestUnlock,
    OperatorUnlocked,
    OperatorRejected,
    OperatorNoAnswer,
}

impl EventKind {
    pub const ALL: &'static [EventKind] = &[
        EventKind::VerifyIdentity,
        EventKind::CocheckIdentity,
        EventKind::RecordForm,
        EventKind::ConfirmSigned,
        EventKind::Submit,
        EventKind::Approve,
        EventKind::ReturnForInfo,
        EventKind::Reject,
        EventKind::LogContact,
        EventKind::RequestConfirmUnlock,
        EventKind::ConfirmUnlock,
        EventKind::RecordUnlockFailure,
        EventKind::Close,
        EventKind::Cancel,
        EventKind::RefuseAuthorityFreeze,
        EventKind::WalletStatus,
        EventKind::RequestUnlock,
        EventKind::OperatorUnlocked,
        EventKind::OperatorRejected,
        EventKind::OperatorNoAnswer,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::VerifyIdentity => "verify-identity",
            EventKind::CocheckIdentity => "cocheck-identity",
            EventKind::RecordForm => "record-form",
            EventKind::ConfirmSigned => "confirm-signed",
            EventKind::Submit => "submit",
            EventKind::Approve => "approve",
            EventKind::ReturnForInfo => "return-for-info",
            EventKind::Reject => "reject",
            EventKind::LogContact => "log-contact",
            EventKind::RequestConfirmUnlock => "request-confirm-unlock",
            EventKind::ConfirmUnlock => "confirm-unlock",
            EventKind::RecordUnlockFailure => "record-unlock-failure",
            EventKind::Close => "close",
            EventKind::Cancel => "cancel",
            EventKind::RefuseAuthorityFreeze => "refuse-authority-freeze",
            EventKind::WalletStatus => "wallet-status",
            EventKind::RequestUnlock => "request-unlock",
            EventKind::OperatorUnlocked => "operator-unlocked",
            EventKind::OperatorRejected => "operator-rejected",
            EventKind::OperatorNoAnswer => "operator-no-answer",
        }
    }
    /// Teller steps make the actor a maker of the case (docs/domain.md §2).
    pub fn is_teller_step(self) -> bool {
        matches!(
            self,
            EventKind::VerifyIdentity
                | EventKind::RecordForm
                | EventKind::ConfirmSigned
                | EventKind::Submit
        )
    }
    /// The operator's answers, recorded by the connector (never offered as a step).
    pub fn is_operator_answer(self) -> bool {
        matches!(
            self,
            EventKind::OperatorUnlocked | EventKind::OperatorRejected | EventKind::OperatorNoAnswer
        )
    }
    /// Steps a supervisor must authorize at that moment.
    pub fn needs_supervisor(self) -> bool {
        matches!(
            self,
            EventKind::Approve
                | EventKind::ReturnForInfo
                | EventKind::Reject
                | EventKind::CocheckIdentity
                | EventKind::ConfirmUnlock
        )
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::VerifyIdentity(_) => EventKind::VerifyIdentity,
            Event::CoCheckIdentity { .. } => EventKind::CocheckIdentity,
            Event::RecordForm(_) => EventKind::RecordForm,
            Event::ConfirmSigned => EventKind::ConfirmSigned,
            Event::Submit => EventKind::Submit,
            Event::Authorize {
                decision: Decision::Approve,
                ..
            } => EventKind::Approve,
            Event::Authorize {
                decision: Decision::ReturnForInfo,
                ..
            } => EventKind::ReturnForInfo,
            Event::Authorize {
                decision: Decision::Reject,
                ..
            } => EventKind::Reject,
            Event::LogContact(_) => EventKind::LogContact,
            Event::RequestConfirmUnlock(_) => EventKind::RequestConfirmUnlock,
            Event::ConfirmUnlock(_) => EventKind::ConfirmUnlock,
            Event::RecordUnlockFailure(_) => EventKind::RecordUnlockFailure,
            Event::Close { .. } => EventKind::Close,
            Event::Cancel { .. } => EventKind::Cancel,
            Event::RefuseAuthorityFreeze { .. } => EventKind::RefuseAuthorityFreeze,
            Event::WalletStatus(_) => EventKind::WalletStatus,
            Event::RequestUnlock(_) => EventKind::RequestUnlock,
            Event::OperatorUnlocked { .. } => EventKind::OperatorUnlocked,
            Event::OperatorRejected { .. } => EventKind::OperatorRejected,
            Event::OperatorNoAnswer { .. } => EventKind::OperatorNoAnswer,
        }
    }
    /// The staff id that authorizes this event, when it needs a supervisor.
    pub fn authorizer(&self) -> Option<&StaffId> {
        match self {
            Event::CoCheckIdentity { supervisor } | Event::Authorize { supervisor, .. } => {
                Some(supervisor)
            }
            Event::ConfirmUnlock(r) => Some(&r.authorized_by),
            _ => None,
        }
    }
}

/// A typed refusal from the state machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("'{event}' is not allowed when the case is '{state}'")]
    IllegalTransition { state: CaseState, event: EventKind },
    #[error("four-eyes: {who} did a teller step on this case and may not authorize '{event}'")]
    FourEyes { who: StaffId, event: EventKind },
    /// The lock is a cause the counter cannot lift (`authority-freeze`, `anti-fraud-restriction`).
    #[error("{}", freeze_message(*cause))]
    AuthorityFreeze { cause: LockCause },
    #[error(
        "the document is not the resident ID card: a supervisor must co-check it before submitting"
    )]
    CoCheckRequired,
    #[error("the identity document does not need a supervisor's co-check")]
    CoCheckNotNeeded,
    #[error("the signed paper must be confirmed before submitting")]
    NotSigned,
    /// The current form revision's bank copy was not printed (or its print did not deliver).
    #[error("print the bank copy of the application form (revision {revision}) before confirming the signed paper")]
    NotPrinted { revision: u32 },
    #[error(
        "print the receipt before closing, or record why it was not handed over (receipt_waiver)"
    )]
    ReceiptNotPrinted,
    #[error(
        "log the contact with the wallet operator (with its result) before confirming the unlock"
    )]
    NoOperatorContact,
    /// An unlock asked of the operator's connector waits for its answer.
    #[error("the wallet operator has not answered the unlock request yet: ask again, or wait")]
    WaitingForOperator,
    #[error("a reason is required for '{event}'")]
    ReasonRequired { event: EventKind },
    /// Another supervisor's decision won the race: the case is no longer submitted.
    #[error("already decided: the case is {state} (decided by {by})")]
    AlreadyDecided { state: CaseState, by: StaffId },
}

impl From<WorkflowError> for CoreError {
    fn from(e: WorkflowError) -> Self {
        let code = match &e {
            WorkflowError::IllegalTransition { .. }
            | WorkflowError::NotSigned
            | WorkflowError::NotPrinted { .. }
            | WorkflowError::NoOperatorContact
            | WorkflowError::WaitingForOperator
            | WorkflowError::CoCheckNotNeeded => ErrorCode::IllegalTransition,
            WorkflowError::ReceiptNotPrinted => {
                return CoreError::field("receipt_waiver", "receipt-not-printed", e.to_string());
            }
            WorkflowError::CoCheckRequired => ErrorCode::IllegalTransition,
            WorkflowError::FourEyes { .. } => ErrorCode::FourEyes,
            WorkflowError::AuthorityFreeze { .. } => ErrorCode::AuthorityFreeze,
            WorkflowError::ReasonRequired { .. } => {
                return CoreError::field("reason", "required", e.to_string());
            }
            WorkflowError::AlreadyDecided { .. } => ErrorCode::Conflict,
        };
        CoreError::new(code, e.to_string())
    }
}

fn freeze_message(cause: LockCause) -> &'static str {
    match cause {
        LockCause::AntiFraudRestriction => "anti-fraud restriction (电信网络诈骗联合惩戒): the counter cannot lift it; the customer may appeal to the public-security organ that designated it",
        _ => "authority-ordered freeze: the counter cannot lift it; the ordering authority (court or police) must issue a release document",
    }
}

impl WorkflowError {
    /// The stable rule name of a refusal, as the case view's `blocked` list and the
    /// screens name it.
    pub fn rule(&self) -> &'static str {
        match self {
            WorkflowError::IllegalTransition { .. } => "illegal-transition",
            WorkflowError::FourEyes { .. } => "four-eyes",
            WorkflowError::AuthorityFreeze {
                cause: LockCause::AntiFraudRestriction,
            } => "anti-fraud-restriction",
            WorkflowError::AuthorityFreeze { .. } => "authority-freeze",
            WorkflowError::CoCheckRequired => "cocheck-required",
            WorkflowError::CoCheckNotNeeded => "cocheck-not-needed",
            WorkflowError::NotSigned => "not-signed",
            WorkflowError::NotPrinted { .. } => "not-printed",
            WorkflowError::ReceiptNotPrinted => "receipt-not-printed",
            WorkflowError::NoOperatorContact => "no-operator-contact",
            WorkflowError::WaitingForOperator => "waiting-for-operator",
            WorkflowError::ReasonRequired { .. } => "reason-required",
            WorkflowError::AlreadyDecided { .. } => "already-decided",
        }
    }
}

/// States from which an authority freeze can be recognised and refused (before any approval).
fn before_decision(s: CaseState) -> bool {
    use CaseState::*;
    matches!(
        s,
        CheckedIn | IdentityVerified | FormRecorded | FormSigned | Submitted | ReturnedForInfo
    )
}

/// The next state for `event` in `state`, ignoring guards on case data: the transition table.
/// `None` means the pair is illegal.
pub fn next_state(state: CaseState, event: EventKind) -> Option<CaseState> {
    use CaseState as S;
    use EventKind as E;
    match (state, event) {
        (S::CheckedIn | S::IdentityVerified | S::ReturnedForInfo, E::VerifyIdentity) => {
            Some(S::IdentityVerified)
        }
        (S::IdentityVerified | S::FormRecorded | S::FormSigned, E::CocheckIdentity) => Some(state),
        (
            S::IdentityVerified | S::FormRecorded | S::FormSigned | S::ReturnedForInfo,
            E::RecordForm,
        ) => Some(S::FormRecorded),
        (S::FormRecorded, E::ConfirmSigned) => Some(S::FormSigned),
        (S::FormSigned, E::Submit) => Some(S::Submitted),
        (S::Submitted, E::Approve) => Some(S::Approved),
        (S::Submitted, E::ReturnForInfo) => Some(S::ReturnedForInfo),
        (S::Submitted, E::Reject) => Some(S::Rejected),
        (s, E::LogContact) if !s.is_terminal() => Some(s),
        (S::Approved | S::UnlockFailed, E::RequestConfirmUnlock) => Some(state),
        (S::Approved | S::UnlockFailed, E::ConfirmUnlock) => Some(S::Unlocked),
        (S::Approved | S::UnlockFailed, E::RecordUnlockFailure) => Some(S::UnlockFailed),
        (S::Unlocked, E::Close) => Some(S::Closed),
        (s, E::Cancel) if !s.is_terminal() && s != S::Unlocked => Some(S::Cancelled),
        // A freeze learnt after the approval (the operator flags it) still stops the case.
        (s, E::RefuseAuthorityFreeze)
            if before_decision(s) || matches!(s, S::Approved | S::UnlockFailed) =>
        {
            Some(S::RefusedAuthorityFreeze)
        }
        (s, E::WalletStatus) if !s.is_terminal() && s != S::Unlocked => Some(s),
        (S::Approved | S::UnlockFailed, E::RequestUnlock | E::OperatorNoAnswer) => Some(state),
        (S::Approved | S::UnlockFailed, E::OperatorUnlocked) => Some(S::Unlocked),
        (S::Approved | S::UnlockFailed, E::OperatorRejected) => Some(S::UnlockFailed),
        _ => None,
    }
}

/// What the service must do besides writing the case and its audit event, in the same
/// transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The case reached a terminal state: its appointment is `done`.
    AppointmentDone(AppointmentId),
    /// The wallet is unlocked: queue the customer's SMS in the outbox, when the branch has an
    /// SMS gateway and the case a phone.
    NotifyUnlocked,
    /// An unlock was asked of the operator's connector: queue the job that settles it by
    /// status queries should no answer come now (the terminal may also stop at any moment).
    AwaitOperator,
}

/// The facts the audit event of a step records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFacts {
    /// The audit `action`: the event's name, or `amend-form` for a form recorded again.
    pub action: &'static str,
    pub from: CaseState,
    pub to: CaseState,
    /// The decision's reason code and text, a cancel, refusal or failure reason; else empty.
    pub reason: String,
    /// Whose act it is: the authorizing supervisor for an authorized step, else the actor.
    pub by: StaffId,
    /// True when `by` is a supervisor authorizing at this moment (the person at the terminal
    /// is then recorded in the detail as the operator).
    pub authorized: bool,
}

/// The outcome of one legal step: the next case, its audit facts, its effects.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub case: Case,
    pub audit: AuditFacts,
    pub effects: Vec<Effect>,
}

/// The guards on case data for `kind`, beyond the transition table: the one place each is
/// written. `Ok` when the case's data allows the event now.
pub fn guard(case: &Case, kind: EventKind) -> Result<(), WorkflowError> {
    let illegal = WorkflowError::IllegalTransition {
        state: case.state,
        event: kind,
    };
    let frozen = case.counter_cannot_lift();
    let freeze = WorkflowError::AuthorityFreeze {
        cause: case.lock_cause.unwrap_or(LockCause::AuthorityFreeze),
    };
    let waiting = crate::operator::waiting(case).is_some();
    match kind {
        // While the operator's connector settles an unlock, no other path may decide it.
        // (A failure may be recorded: a supervisor's withdrawal of the request, checked by the
        // service, which the operator confirmed was never applied.)
        EventKind::ConfirmUnlock
        | EventKind::RequestConfirmUnlock
        | EventKind::Cancel
        | EventKind::WalletStatus
        | EventKind::RefuseAuthorityFreeze
            if waiting =>
        {
            Err(WorkflowError::WaitingForOperator)
        }
        EventKind::RequestUnlock => match &case.authorization {
            _ if frozen => Err(freeze),
            _ if waiting => Err(WorkflowError::WaitingForOperator),
            // A supervisor is asked to confirm a manual unlock: one path at a time.
            _ if case.unlock_request.is_some() => Err(illegal),
            Some(a) if a.decision == Decision::Approve => Ok(()),
            _ => Err(illegal),
        },
        EventKind::OperatorUnlocked | EventKind::OperatorRejected | EventKind::OperatorNoAnswer
            if !waiting =>
        {
            Err(illegal)
        }
        EventKind::OperatorUnlocked if frozen => Err(freeze),
        EventKind::CocheckIdentity => match &case.identity {
            None => Err(illegal),
            Some(i) if !i.needs_cocheck => Err(WorkflowError::CoCheckNotNeeded),
            // Already co-checked: nothing left to do (the UI offers it only once).
            Some(i) if i.cochecked_by.is_some() => Err(WorkflowError::CoCheckNotNeeded),
            Some(_) => Ok(()),
        },
        EventKind::RecordForm if case.identity.is_none() => Err(illegal),
        EventKind::ConfirmSigned if case.form.is_none() => Err(illegal),
        EventKind::ConfirmSigned if !case.form_printed() => Err(WorkflowError::NotPrinted {
            revision: case.form_revision,
        }),
        EventKind::Submit => {
            if frozen {
                Err(freeze)
            } else if case.form_signed_at.is_none() {
                Err(WorkflowError::NotSigned)
            } else if case
                .identity
                .as_ref()
                .is_some_and(|i| i.needs_cocheck && i.cochecked_by.is_none())
            {
                Err(WorkflowError::CoCheckRequired)
            } else {
                Ok(())
            }
        }
        EventKind::Approve if frozen => Err(freeze),
        EventKind::ConfirmUnlock | EventKind::RequestConfirmUnlock => match &case.authorization {
            _ if frozen => Err(freeze),
            Some(a) if a.decision == Decision::Approve => {
                // The contact that carried out (or requested) this unlock: logged since the
                // approval and since the last failed attempt (a retry needs its own contact),
                // with what the operator answered.
                let since = case
                    .unlock_failures
                    .iter()
                    .map(|f| f.at)
                    .fold(a.at, |m, t| m.max(t));
                if case
                    .contacts
                    .iter()
                    .any(|c| c.at >= since && !c.result.trim().is_empty())
                {
                    Ok(())
                } else {
                    Err(WorkflowError::NoOperatorContact)
                }
            }
            _ => Err(illegal),
        },
        _ => Ok(()),
    }
}

/// Apply `event` by `actor` at `at` to `case`: the [`Step`], or a typed refusal.
/// Pure: `case` is not modified; the version is bumped on the returned copy.
///
/// Refusals, in this order: a decision on a case another supervisor already decided
/// (`AlreadyDecided`, naming them); a pair the transition table does not have
/// (`IllegalTransition`); an authorizer who is a maker (`FourEyes`); the data [`guard`]s; a
/// missing reason.
pub fn step(
    case: &Case,
    actor: &StaffId,
    event: &Event,
    at: DateTime<Utc>,
) -> Result<Step, WorkflowError> {
    let kind = event.kind();
    if let (Event::Authorize { .. }, Some(decided)) = (event, &case.authorization) {
        if case.state != CaseState::Submitted {
            return Err(WorkflowError::AlreadyDecided {
                state: case.state,
                by: decided.supervisor.clone(),
            });
        }
    }
    let mut to = next_state(case.state, kind).ok_or(WorkflowError::IllegalTransition {
        state: case.state,
        event: kind,
    })?;

    // Four-eyes, on every authorizing path: never a maker, and never the one who asked for
    // the unlock's confirmation.
    if let Some(sup) = event.authorizer() {
        let requested_it = kind == EventKind::ConfirmUnlock
            && case.unlock_request.as_ref().is_some_and(|r| &r.by == sup);
        if case.is_maker(sup) || requested_it {
            return Err(WorkflowError::FourEyes {
                who: sup.clone(),
                event: kind,
            });
        }
    }
    guard(case, kind)?;

    let mut next = case.clone();
    let mut reason = String::new();
    match event {
        Event::VerifyIdentity(record) => {
            next.identity = Some(record.clone());
            if let Some(failed) = failed_online_check(record.online_check.as_ref()) {
                to = CaseState::RefusedIdentity;
                next.last_reason = format!("customer: {failed}");
                reason = next.last_reason.clone();
            }
        }
        Event::CoCheckIdentity { supervisor } => {
            if let Some(id) = next.identity.as_mut() {
                id.cochecked_by = Some(supervisor.clone());
                id.cochecked_at = Some(at);
            }
        }
        Event::RecordForm(form) => {
            if let Some(cause) = form.lock_cause {
                next.lock_cause = Some(cause);
            }
            if !form.customer_name.trim().is_empty() {
                next.customer_name = form.customer_name.clone();
            }
            if !form.phone.is_empty() {
                next.phone = form.phone.clone();
            }
            next.form = Some(form.clone());
            // An amended form is a new revision: printed and signed again.
            next.form_revision += 1;
            next.form_signed_at = None;
            if let Some(cause) = next.lock_cause.filter(|c| c.counter_cannot_lift()) {
                to = CaseState::RefusedAuthorityFreeze;
                next.last_reason = cause.as_str().into();
            } else if let Some(failed) =
                failed_online_check(form.agent.as_ref().and_then(|a| a.online_check.as_ref()))
            {
                to = CaseState::RefusedIdentity;
                next.last_reason = format!("agent: {failed}");
                reason = next.last_reason.clone();
            }
        }
        Event::ConfirmSigned => {
            next.form_signed_at = Some(at);
        }
        Event::Submit => {}
        Event::Authorize {
            decision,
            supervisor,
            reason_code,
            reason: text,
        } => {
            if *decision != Decision::Approve && text.trim().is_empty() && reason_code.is_none() {
                return Err(WorkflowError::ReasonRequired { event: kind });
            }
            next.authorization = Some(Authorization {
                decision: *decision,
                supervisor: supervisor.clone(),
                reason_code: *reason_code,
                reason: text.clone(),
                at,
            });
            if *decision != Decision::Approve {
                next.last_reason = text.clone();
            }
            reason = [
                reason_code
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_default(),
                text.clone(),
            ]
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(": ");
        }
        Event::LogContact(contact) => next.contacts.push(contact.clone()),
        Event::RequestConfirmUnlock(request) => {
            // Asked again (another reference): the newer request replaces the older one.
            next.unlock_request = Some(request.clone());
        }
        Event::ConfirmUnlock(record) => {
            next.unlock = Some(record.clone());
            next.unlock_request = None;
        }
        Event::RecordUnlockFailure(f) => {
            if f.reason.trim().is_empty() {
                return Err(WorkflowError::ReasonRequired { event: kind });
            }
            next.unlock_request = None;
            // Withdrawing the request the operator's connector still waits for: its key is
            // closed, no worker asks about it again.
            if let Some(asked) = next
                .operator_unlock
                .as_mut()
                .filter(|u| u.status == OperatorUnlockStatus::Waiting)
            {
                asked.status = OperatorUnlockStatus::Rejected;
                asked.last_answer = "withdrawn at the counter".into();
                asked.reference = "withdrawn".into();
                asked.settled_at = Some(at);
            }
            next.unlock_failures.push(f.clone());
            next.last_reason = f.reason.clone();
            reason = f.reason.clone();
        }
        Event::Close { receipt_waiver } => {
            let waiver = receipt_waiver
                .as_deref()
                .map(str::trim)
                .filter(|w| !w.is_empty());
            match waiver {
                _ if case.receipt_printed() => {}
                Some(w) => {
                    next.receipt_waiver = Some(w.to_string());
                    // `code: words`, as a decision's reason: the history words the code in
                    // the screen's language and keeps the teller's own words.
                    reason = format!("receipt-waived: {w}");
                }
                None => return Err(WorkflowError::ReceiptNotPrinted),
            }
        }
        Event::Cancel { reason: text } => {
            if text.trim().is_empty() {
                return Err(WorkflowError::ReasonRequired { event: kind });
            }
            next.last_reason = text.clone();
            reason = text.clone();
        }
        Event::RefuseAuthorityFreeze { reason: text } => {
            // An anti-fraud restriction keeps its own cause; anything else recognised at the
            // counter as a freeze is recorded as one.
            let cause = case
                .lock_cause
                .filter(|c| c.counter_cannot_lift())
                .unwrap_or(LockCause::AuthorityFreeze);
            next.lock_cause = Some(cause);
            next.last_reason = if text.trim().is_empty() {
                cause.as_str().into()
            } else {
                text.clone()
            };
            reason = text.clone();
        }
        Event::WalletStatus(check) => next.wallet_check = Some(check.clone()),
        Event::RequestUnlock(request) => {
            next.operator_unlock = Some(request.clone());
        }
        Event::OperatorUnlocked {
            reference,
            notified_via,
        } => {
            let Some(asked) = next.operator_unlock.as_mut() else {
                return Err(WorkflowError::IllegalTransition {
                    state: case.state,
                    event: kind,
                });
            };
            asked.status = OperatorUnlockStatus::Confirmed;
            asked.calls += 1;
            asked.last_answer = "confirmed".into();
            asked.reference = reference.clone();
            asked.settled_at = Some(at);
            // The supervisor's approval was the four-eyes control; the operator's answer
            // replaces the manual confirmation. The teller who asked carried it out.
            let confirmed_by = asked.by.clone();
            let authorized_by = case
                .authorization
                .as_ref()
                .map(|a| a.supervisor.clone())
                .unwrap_or_else(|| confirmed_by.clone());
            next.unlock = Some(UnlockRecord {
                operator_reference: reference.clone(),
                notified_via: *notified_via,
                notified_at: at,
                confirmed_by,
                authorized_by,
                at,
            });
            next.unlock_request = None;
        }
        Event::OperatorRejected { code, message } => {
            let Some(asked) = next.operator_unlock.as_mut() else {
                return Err(WorkflowError::IllegalTransition {
                    state: case.state,
                    event: kind,
                });
            };
            asked.status = OperatorUnlockStatus::Rejected;
            asked.calls += 1;
            asked.last_answer = format!("rejected: {code}");
            asked.reference = code.clone();
            asked.settled_at = Some(at);
            let by = asked.by.clone();
            let text = format!("the operator refused: {code}: {message}");
            next.unlock_failures.push(UnlockFailure {
                reason: text.clone(),
                next: UnlockFailureNext::Retry,
                operator_ticket: asked.key.clone(),
                by,
                at,
            });
            next.last_reason = text.clone();
            reason = text;
        }
        Event::OperatorNoAnswer { answer } => {
            let Some(asked) = next.operator_unlock.as_mut() else {
                return Err(WorkflowError::IllegalTransition {
                    state: case.state,
                    event: kind,
                });
            };
            asked.calls += 1;
            asked.last_answer = answer.clone();
        }
    }
    if kind.is_teller_step() && !next.is_maker(actor) {
        next.makers.push(actor.clone());
    }
    next.state = to;
    next.version += 1;
    next.updated_at = at;

    let mut effects = Vec::new();
    if let (Some(aid), true) = (next.appointment_id, to.is_terminal()) {
        effects.push(Effect::AppointmentDone(aid));
    }
    if to == CaseState::Unlocked && case.state != CaseState::Unlocked {
        effects.push(Effect::NotifyUnlocked);
    }
    if kind == EventKind::RequestUnlock {
        effects.push(Effect::AwaitOperator);
    }
    let action = if kind == EventKind::RecordForm && case.form.is_some() {
        "amend-form"
    } else {
        kind.as_str()
    };
    let (by, authorized) = match event.authorizer() {
        Some(sup) => (sup.clone(), true),
        None => (actor.clone(), false),
    };
    Ok(Step {
        case: next,
        audit: AuditFacts {
            action,
            from: case.state,
            to,
            reason,
            by,
            authorized,
        },
        effects,
    })
}

/// The reason a failed online check stops the case: `"<result> (ref <reference>)"`.
fn failed_online_check(check: Option<&OnlineCheck>) -> Option<String> {
    let c = check?;
    (c.result != OnlineCheckResult::Match).then(|| {
        format!(
            "online identity check {} (ref {})",
            c.result.as_str(),
            c.reference
        )
    })
}

/// The events the transition table and the data [`guard`]s allow now (before role
/// permissions).
pub fn allowed_events(case: &Case) -> Vec<EventKind> {
    EventKind::ALL
        .iter()
        .copied()
        .filter(|k| !k.is_operator_answer())
        .filter(|k| next_state(case.state, *k).is_some() && guard(case, *k).is_ok())
        .collect()
}

/// The steps the transition table has for this state but the case's data refuses now, each
/// with its refusal (what the screens show beside a disabled step). `close` without a printed
/// receipt is listed although it is allowed with a recorded reason.
pub fn blocked_events(case: &Case) -> Vec<(EventKind, WorkflowError)> {
    let mut out: Vec<(EventKind, WorkflowError)> = EventKind::ALL
        .iter()
        .copied()
        .filter(|k| !k.is_operator_answer() && next_state(case.state, *k).is_some())
        .filter_map(|k| guard(case, k).err().map(|e| (k, e)))
        .filter(|(_, e)| {
            !matches!(
                e,
                WorkflowError::IllegalTransition { .. } | WorkflowError::CoCheckNotNeeded
            )
        })
        .collect();
    if next_state(case.state, EventKind::Close).is_some() && !case.receipt_printed() {
        out.push((EventKind::Close, WorkflowError::ReceiptNotPrinted));
    }
    out
}

/// Invariants every reachable case satisfies; used by the property tests and by the store's
/// consistency check. Returns the first broken invariant.
pub fn check_invariants(case: &Case) -> Result<(), String> {
    use CaseState as S;
    let past_identity = !matches!(
        case.state,
        S::CheckedIn | S::Cancelled | S::RefusedAuthorityFreeze
    );
    if past_identity && case.identity.is_none() {
        return Err(format!("{} without an identity check", case.state));
    }
    if matches!(
        case.state,
        S::FormRecorded | S::FormSigned | S::Submitted | S::Approved | S::Unlocked | S::Closed
    ) && case.form.is_none()
    {
        return Err(format!("{} without a form", case.state));
    }
    if matches!(
        case.state,
        S::FormSigned | S::Submitted | S::Approved | S::Unlocked | S::Closed
    ) && case.form_signed_at.is_none()
    {
        return Err(format!("{} without the signed paper", case.state));
    }
    if matches!(
        case.state,
        S::Approved | S::Unlocked | S::Closed | S::UnlockFailed
    ) {
        match &case.authorization {
            Some(a) if a.decision == Decision::Approve => {
                if case.is_maker(&a.supervisor) {
                    return Err("approved by a maker".into());
                }
            }
            _ => return Err(format!("{} without an approval", case.state)),
        }
    }
    if matches!(case.state, S::Unlocked | S::Closed) {
        if case.counter_cannot_lift() {
            return Err("authority freeze unlocked".into());
        }
        match &case.unlock {
            Some(u) if !case.is_maker(&u.authorized_by) => {}
            Some(_) => return Err("unlock authorized by a maker".into()),
            None => return Err(format!("{} without an unlock record", case.state)),
        }
    }
    if matches!(
        case.state,
        S::FormSigned | S::Submitted | S::Approved | S::Unlocked | S::Closed
    ) && case.form_revision > 0
        && !case.form_printed()
    {
        return Err(format!("{} without the printed form", case.state));
    }
    // Cases recorded before the evidence rules (revision 0) have no print records.
    if case.state == S::Closed
        && case.form_revision > 0
        && !case.receipt_printed()
        && case.receipt_waiver.is_none()
    {
        return Err("closed without a receipt or a reason".into());
    }
    if case.state == S::UnlockFailed && case.unlock_failures.is_empty() {
        return Err("unlock-failed without a failure record".into());
    }
    Ok(())
}
