//! The local implementation of [`crate::api::Counter`]: the use cases over a
//! [`Store`], a [`Clock`], an [`Entropy`] source and a PDF [`Renderer`].
//!
//! This file holds the engine every use case shares: the permission check ([`Service::permit`],
//! refusals audited), the actor check inside a transaction, and the transition engine
//! ([`Service::transition`]): **one** store transaction that loads the case, asks the pure
//! [`workflow::step`] for the next case, its audit facts and its effects, and writes all of
//! them. One file per concern beside it:
//!
//! | file | use cases |
//! |---|---|
//! | `branch.rs` | set-up, branch settings, demo data |
//! | `session.rs` | sign-in, authentication, session lock, password change, supervisors |
//! | `staff.rs` | staff accounts (admin) |
//! | `cases.rs` | the thirteen case steps |
//! | `reads.rs` | case view, search, reveal, audit |
//! | `browse.rs` | case lists one page at a time (today, past cases), their filter choices |
//! | `printing.rs` | application form and receipt |
//! | `scans.rs` | the signed paper's scan or photo, attached |
//! | `appointments.rs` | appointment book: today, lookup, import, no-shows |
//! | `backup.rs` | backup and restore |
//! | `retention.rs` | retention report, destruction batches, legal holds, the auditor's trail |
//! | `desk.rs` | the supervisors' authorization desk: queue, opening a request, its events |
//! | `counter.rs` | `impl Counter for Service` (one line per operation) |

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;

use crate::dto::CaseView;
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::masking;
use crate::model::*;
use crate::permissions::{self, Action};
use crate::ports::*;
use crate::print::Renderer;
use crate::workflow::{self, Effect, Event, WorkflowError};

mod appointments;
mod backup;
mod branch;
pub mod branch_server;
mod browse;
mod cases;
mod counter;
mod desk;
pub use desk::MAX_EVENTS_PAGE;
mod operator;
pub use operator::DeliveryRound;
mod printing;
mod reads;
mod retention;
mod scans;
pub use scans::{scan_type, MAX_SCAN_BYTES};
mod session;
mod staff;

#[cfg(test)]
mod tests;

/// The use cases over a store, a clock, an entropy source and (for printing) a renderer.
pub struct Service<S: Store> {
    pub(crate) store: S,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    renderer: Option<Arc<dyn Renderer>>,
    connectors: Option<Arc<dyn crate::operator::Connectors>>,
    outbox_lease: chrono::Duration,
}

impl<S: Store> Service<S> {
    /// A service without a renderer: printing answers `render` until
    /// [`Service::with_renderer`] gives it one.
    pub fn new(store: S, clock: Arc<dyn Clock>, entropy: Arc<dyn Entropy>) -> Self {
        Service {
            store,
            clock,
            entropy,
            renderer: None,
            connectors: None,
            outbox_lease: crate::operator::LEASE,
        }
    }

    /// How long the outbox worker holds a claimed message before another worker may take it
    /// ([`crate::operator::LEASE`] by default; longer than one delivery attempt can take).
    pub fn with_outbox_lease(mut self, lease: chrono::Duration) -> Self {
        self.outbox_lease = lease;
        self
    }

    /// The wallet operators' connectors and the SMS gateway ([`crate::operator`]). Without
    /// them every operator is served the manual way and no SMS is queued.
    pub fn with_connectors(mut self, connectors: Arc<dyn crate::operator::Connectors>) -> Self {
        self.connectors = Some(connectors);
        self
    }

    /// The PDF renderer for printing and exports (`unlockdesk_forms::PdfRenderer`).
    pub fn with_renderer(mut self, renderer: Arc<dyn Renderer>) -> Self {
        self.renderer = Some(renderer);
        self
    }

    /// The store under the use cases (store-level maintenance: backups, rekeying).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The same use cases on the same store at another clock. Only the demo data uses it, to
    /// record its synthetic earlier days through the real steps; a branch's clock is never set.
    pub(crate) fn at_clock(&self, clock: Arc<dyn Clock>) -> Service<&S> {
        Service {
            store: &self.store,
            clock,
            entropy: self.entropy.clone(),
            renderer: self.renderer.clone(),
            // Only the demo data uses another clock: no operator, no SMS.
            connectors: None,
            outbox_lease: self.outbox_lease,
        }
    }

    /// The same use cases with no operator connector and no SMS gateway: the demo data's
    /// synthetic customers are never sent to an operator or texted.
    pub(crate) fn without_connectors(&self) -> Service<&S> {
        Service {
            store: &self.store,
            clock: self.clock.clone(),
            entropy: self.entropy.clone(),
            renderer: self.renderer.clone(),
            connectors: None,
            outbox_lease: self.outbox_lease,
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) fn uuid(&self) -> uuid::Uuid {
        self.entropy.uuid()
    }

    pub(crate) fn salt(&self) -> [u8; 16] {
        self.entropy.salt()
    }

    pub(crate) fn renderer(&self) -> CoreResult<&dyn Renderer> {
        self.renderer
            .as_deref()
            .ok_or_else(|| CoreError::new(ErrorCode::Render, "no PDF renderer is configured"))
    }

    /// A wake-up for followers of the audit trail ([`Store::audit_wake`]).
    pub fn audit_wake(&self) -> CoreResult<Option<Box<dyn AuditWake>>> {
        self.store.audit_wake()
    }

    pub(crate) fn is_set_up(&self) -> CoreResult<bool> {
        self.store.read(|tx| Ok(tx.branch()?.is_some()))
    }

    /// The branch profile. Errors: `not-set-up`.
    pub(crate) fn branch(&self) -> CoreResult<Branch> {
        self.store.read(|tx| branch_of(tx))
    }

    /// The branch's local date now ("today").
    pub(crate) fn today(&self) -> CoreResult<NaiveDate> {
        Ok(self.branch()?.local_date(self.now()))
    }

    // ---------------------------------------------------------------- permissions

    /// The actor may do `action` ([`permissions::require_actor`]); a refusal is audited.
    pub(crate) fn permit(
        &self,
        actor: &Actor,
        action: Action,
        case: Option<CaseId>,
    ) -> CoreResult<()> {
        permissions::require_actor(actor, action).inspect_err(|e| {
            self.audit_refusal(
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
                case,
                "permission",
                &e.message,
            );
        })
    }

    /// The person at the terminal of an authorizing step: a signed-in staff member who may
    /// work cases (a system actor never starts an authorization). Refusals are audited.
    pub(crate) fn permit_terminal_for_authorization(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> CoreResult<()> {
        if actor.system_kind().is_some() {
            let e = CoreError::forbidden("an authorization is started by a signed-in staff member");
            self.audit_refusal(
                actor.staff_id(),
                None,
                actor.terminal(),
                Some(case),
                "permission",
                &e.message,
            );
            return Err(e);
        }
        self.permit(actor, Action::ViewCases, Some(case))
    }

    /// Inside a transaction: a staff actor's account still exists, is enabled, unlocked, past
    /// its forced password change, and has the role the actor claims. System actors have no
    /// account; their rights are checked by [`Service::permit`].
    pub(crate) fn check_actor(&self, tx: &mut dyn ReadTx, actor: &Actor) -> CoreResult<()> {
        if actor.remote_token().is_some() {
            return Err(CoreError::forbidden(
                "this actor belongs to a branch server session; only that server can act on it",
            ));
        }
        if actor.system_kind().is_some() {
            return Ok(());
        }
        let s = tx
            .staff(actor.staff_id())?
            .ok_or_else(|| CoreError::new(ErrorCode::AuthFailed, "unknown staff"))?;
        match account_refusal(&s, Account::Actor(actor.role())) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Inside a step's transaction: whether the supervisor an authorizing event names (a
    /// co-check, an authorization, an unlock confirmation) may no longer give it. Their
    /// password was checked just before, in a transaction of its own; an administrator's
    /// disable, lock or role change committed since must stop the step (four-eyes is only as
    /// good as the second pair's right to look). `Ok(None)`: the account is enabled, unlocked,
    /// past its forced password change and allowed to give it (or the event needs no
    /// supervisor). `Ok(Some((refusal, role)))`: refused, with the account's role now (None
    /// without an account); the refusal is `auth-failed`, `account-disabled`,
    /// `account-locked`, `forbidden` or `password-change-required`, naming the supervisor.
    /// Errors: the store's.
    pub(crate) fn authorizer_refused(
        &self,
        tx: &mut dyn ReadTx,
        event: &Event,
    ) -> CoreResult<Option<(CoreError, Option<Role>)>> {
        let Some(id) = event.authorizer() else {
            return Ok(None);
        };
        let action = match event {
            Event::CoCheckIdentity { .. } => Action::CocheckIdentity,
            _ => Action::Authorize,
        };
        let Some(s) = tx.staff(id)? else {
            return Ok(Some((
                CoreError::new(
                    ErrorCode::AuthFailed,
                    format!("the supervisor {id} has no account"),
                ),
                None,
            )));
        };
        Ok(account_refusal(&s, Account::Supervisor(action)).map(|e| (e, Some(s.role))))
    }

    /// Record a refused attempt in its own transaction.
    pub(crate) fn audit_refusal(
        &self,
        who: &StaffId,
        role: Option<Role>,
        terminal: &str,
        case: Option<CaseId>,
        action: &str,
        reason: &str,
    ) {
        let d = draft(
            self.now(),
            who,
            role,
            terminal,
            case,
            action,
            None,
            None,
            reason,
            Outcome::Refused,
            "{}",
        );
        // A refusal that cannot be recorded must not hide the original error.
        let _ = self.store.transact(|tx| tx.append_audit(&d).map(|_| ()));
    }

    // ---------------------------------------------------------------- transitions

    /// Run one workflow event on a case in one transaction: check the actor, replay an
    /// idempotent retry, load the case, ask [`workflow::step`] for the [`workflow::Step`],
    /// write the case (version-checked), its audit event and its effects.
    ///
    /// The actor's account, and for an authorizing event the supervisor's
    /// ([`Service::authorizer_refused`]), are checked in the transaction. The transaction is
    /// [`Store::transact_optimistic`]. When the store lets its reads run unserialised
    /// ([`Store::optimistic_reads`]), both accounts and the branch are read again after the
    /// case's version-checked write, and a step that refused or failed its checks
    /// runs once more in a [`Store::transact`], where it sees the other writer's step (so `make`
    /// and `audit_detail` may be called twice).
    ///
    /// `make` builds the event from the case and branch read in this transaction (so an
    /// amendment at another terminal is never overwritten with older data); `audit_detail`
    /// gives the event's detail JSON from the next case (never a C2 value). A refusal that
    /// auditors must see (four-eyes, an authority freeze, a decision that lost the race to
    /// another supervisor, a supervisor whose account may no longer authorize) is recorded as
    /// a `refused-step` event.
    pub(crate) fn transition(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
        use_case: &'static str,
        make: impl Fn(&Case, &Branch) -> CoreResult<Event>,
        audit_detail: impl Fn(&Case) -> String,
    ) -> CoreResult<CaseView> {
        let now = self.now();
        // (who, role, detail) of a refused attempt auditors must see.
        let refused: std::cell::RefCell<Option<(StaffId, Option<Role>, String)>> =
            Default::default();
        // How the step's body ended in the latest attempt.
        let ended = std::cell::Cell::new(BodyEnd::NotRun);
        // This attempt's reads before its first write were not serialised with other writers.
        let unserialised = std::cell::Cell::new(false);
        // The supervisor the event names may still give it; a refusal is recorded under them.
        let authorizer_may = |tx: &mut dyn WriteTx, event: &Event| -> CoreResult<()> {
            match self.authorizer_refused(tx, event)? {
                Some((e, role)) => {
                    *refused.borrow_mut() = Some(authorizer_refusal(actor, event, &e, role));
                    Err(e)
                }
                None => Ok(()),
            }
        };
        let step_body = |tx: &mut dyn WriteTx| -> CoreResult<()> {
            self.check_actor(tx, actor)?;
            if let Some(key) = idem {
                if let Some(first) = tx.idempotent(key)? {
                    // A retry of the same attempt replays; the key of another request is a
                    // client error, never a silent success.
                    return first.replays(key, case_id, use_case);
                }
            }
            let case = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
            let branch = branch_of(tx)?;
            let event = make(&case, &branch)?;
            authorizer_may(tx, &event)?;
            let step = match workflow::step(&case, actor.staff_id(), &event, now) {
                Ok(step) => step,
                Err(e) => {
                    if matches!(
                        e,
                        WorkflowError::FourEyes { .. }
                            | WorkflowError::AuthorityFreeze { .. }
                            | WorkflowError::AlreadyDecided { .. }
                    ) {
                        // The refused attempt is the authorizer's when there is one; the
                        // detail keeps the person at the terminal, as on an authorized step.
                        *refused.borrow_mut() = Some(match event.authorizer() {
                            Some(sup) => (
                                sup.clone(),
                                Some(Role::Supervisor),
                                serde_json::json!({
                                    "operator": actor.staff_id().as_str(),
                                    "supervisor": sup.as_str(),
                                    "step": event.kind().as_str(),
                                })
                                .to_string(),
                            ),
                            None => (
                                actor.staff_id().clone(),
                                actor.role(),
                                serde_json::json!({"step": event.kind().as_str()}).to_string(),
                            ),
                        });
                    }
                    return Err(e.into());
                }
            };
            let next = &step.case;
            tx.update_case(next, case.version)?;
            if unserialised.get() {
                // Serialised from the case's write on: what its version does not cover (the
                // actor's account, an authorizing supervisor's, the branch's rules) is read
                // again, so no step is recorded after a change it was decided without.
                self.check_actor(tx, actor)?;
                authorizer_may(tx, &event)?;
                if branch_of(tx)? != branch {
                    return Err(CoreError::conflict(
                        "the branch's settings changed during this step; try again",
                    ));
                }
            }
            let facts = &step.audit;
            // An authorized step is the supervisor's act: the event names them (with the
            // supervisor role) and keeps the person at the terminal in the detail.
            let (role, detail) = if facts.authorized {
                let mut d: serde_json::Value = serde_json::from_str(&audit_detail(next))
                    .unwrap_or_else(|_| serde_json::json!({}));
                if let Some(o) = d.as_object_mut() {
                    o.insert(
                        "operator".into(),
                        serde_json::json!(actor.staff_id().as_str()),
                    );
                    o.insert("supervisor".into(), serde_json::json!(facts.by.as_str()));
                }
                (Some(Role::Supervisor), d.to_string())
            } else {
                (actor.role(), audit_detail(next))
            };
            tx.append_audit(&draft(
                now,
                &facts.by,
                role,
                actor.terminal(),
                Some(case_id),
                facts.action,
                Some(facts.from),
                Some(facts.to),
                &masking::scrub_digits(&facts.reason),
                Outcome::Ok,
                &detail,
            ))?;
            for effect in &step.effects {
                self.apply(tx, case_id, effect)?;
            }
            if let Some(key) = idem {
                tx.remember_idempotent(key, case_id, use_case, now)?;
            }
            Ok(())
        };
        let body = |tx: &mut dyn WriteTx| -> CoreResult<()> {
            let out = step_body(tx);
            ended.set(match &out {
                Ok(()) => BodyEnd::Done,
                Err(e) if matches!(e.code, ErrorCode::Storage | ErrorCode::Unavailable) => {
                    BodyEnd::Store
                }
                Err(_) => BodyEnd::Refused,
            });
            out
        };
        // Optimistic first: the reads do not hold the branch's other writers up. Each read
        // sees what was committed when it ran, so a step racing another on the same case may
        // read the key before that step committed and the case after (and be refused as
        // already decided), or read the case before and fail its version check. Whatever the
        // step refused is asked again serialised, where it sees the other writer's step
        // (a retry of the same request replays it; a second decision is refused as already
        // decided), exactly as if it had waited for it. A store error or a failed commit is
        // never run again (a commit's outcome may be unknown).
        let optimistic = self.store.optimistic_reads();
        unserialised.set(optimistic);
        let first = self.store.transact_optimistic(body);
        let res = if first.is_err() && ended.get() == BodyEnd::Refused && optimistic {
            unserialised.set(false);
            ended.set(BodyEnd::NotRun);
            let first_refusal = refused.take();
            let again = self.store.transact(body);
            match &again {
                // The store failed before the step ran to its end: the first answer stands,
                // refusal included. (A failed commit's error stands: the rerun may be recorded.)
                Err(e)
                    if matches!(e.code, ErrorCode::Storage | ErrorCode::Unavailable)
                        && ended.get() != BodyEnd::Done =>
                {
                    *refused.borrow_mut() = first_refusal;
                    first
                }
                _ => again,
            }
        } else {
            first
        };
        if let Err(e) = &res {
            if let Some((who, role, detail)) = &*refused.borrow() {
                let d = AuditDraft {
                    detail: detail.clone(),
                    ..draft(
                        self.now(),
                        who,
                        *role,
                        actor.terminal(),
                        Some(case_id),
                        "refused-step",
                        None,
                        None,
                        &e.message,
                        Outcome::Refused,
                        "{}",
                    )
                };
                // A refusal that cannot be recorded must not hide the original error.
                let _ = self.store.transact(|tx| tx.append_audit(&d).map(|_| ()));
            }
        }
        res?;
        let view = self.case_view(actor, case_id)?;
        log_step(actor, &view);
        Ok(view)
    }

    /// Perform one effect of a step inside its transaction.
    pub(crate) fn apply(
        &self,
        tx: &mut dyn WriteTx,
        case_id: CaseId,
        effect: &Effect,
    ) -> CoreResult<()> {
        match effect {
            Effect::AppointmentDone(aid) => {
                if let Some(mut a) = tx.appointment(*aid)? {
                    a.status = AppointmentStatus::Done;
                    tx.update_appointment(&a)?;
                }
                Ok(())
            }
            Effect::NotifyUnlocked => self.queue_unlock_sms(tx, case_id),
            Effect::AwaitOperator => self.queue_settle(tx, case_id),
        }
    }
}

/// Whose account [`account_refusal`] checks: that decides its role rule and its words.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Account {
    /// The person at the terminal, whose session claims this role: the account must still
    /// have it (a role changed since sign-in means signing in again).
    Actor(Option<Role>),
    /// A supervisor named on a step (a co-check, an authorization, an unlock confirmation),
    /// whose role must allow this action (`Action::Authorize` or `Action::CocheckIdentity`).
    Supervisor(Action),
}

/// Why an account may not act now, or `None`: the one set of account rules for the person at
/// the terminal ([`Service::check_actor`]), the supervisor at their password check
/// (`Service::supervisor`) and the supervisor again inside the step
/// ([`Service::authorizer_refused`]). In this order: `account-disabled`, `account-locked`,
/// the role (`forbidden`: a changed role for the actor, a role without the right for a
/// supervisor), `password-change-required` (an administrator's reset or a new account: the
/// password must be changed before anything else). A supervisor's refusal names them.
pub(crate) fn account_refusal(s: &Staff, who: Account) -> Option<CoreError> {
    let id = &s.id;
    let refusal = |own: &str, theirs: String| match who {
        Account::Actor(_) => own.to_string(),
        Account::Supervisor(_) => theirs,
    };
    if s.disabled {
        return Some(CoreError::new(
            ErrorCode::AccountDisabled,
            refusal(
                "this account is disabled",
                format!("the supervisor {id}'s account is disabled"),
            ),
        ));
    }
    if s.locked {
        return Some(CoreError::new(
            ErrorCode::AccountLocked,
            refusal(
                "this account is locked",
                format!("the supervisor {id}'s account is locked"),
            ),
        ));
    }
    match who {
        Account::Actor(claimed) if claimed != Some(s.role) => {
            return Some(CoreError::forbidden(
                "the account's role has changed; sign in again",
            ));
        }
        Account::Supervisor(action) if !permissions::allows(s.role, action) => {
            return Some(CoreError::forbidden(format!("{id} is not a supervisor")));
        }
        _ => {}
    }
    s.must_change_password.then(|| {
        CoreError::new(
            ErrorCode::PasswordChangeRequired,
            refusal(
                "change the password first",
                format!("the supervisor {id} must change their password first"),
            ),
        )
    })
}

/// The refused-step record of an authorizing step whose supervisor may no longer give it:
/// under the supervisor with the role their account has now (none without an account),
/// keeping the person at the terminal in the detail (as a four-eyes refusal).
fn authorizer_refusal(
    actor: &Actor,
    event: &Event,
    e: &CoreError,
    role: Option<Role>,
) -> (StaffId, Option<Role>, String) {
    let sup = event.authorizer().unwrap_or(actor.staff_id());
    let detail = serde_json::json!({
        "operator": actor.staff_id().as_str(),
        "supervisor": sup.as_str(),
        "step": event.kind().as_str(),
        "rule": e.code,
    });
    (sup.clone(), role, detail.to_string())
}

/// How a step's body ended in one attempt of [`Service::transition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyEnd {
    /// Not run (yet): the store failed before it, e.g. at `BEGIN`.
    NotRun,
    /// Its store failed or went away: never asked again (the caller sees it; nothing of the
    /// step was recorded).
    Store,
    /// The step itself refused (not its store): what it decided on may have been read before
    /// another writer's step on the same case committed.
    Refused,
    /// It ran to its end: what failed after it, if anything, was the commit (whose outcome may
    /// be unknown).
    Done,
}

/// The branch row, or `not-set-up`.
pub(crate) fn branch_of(tx: &mut dyn ReadTx) -> CoreResult<Branch> {
    tx.branch()?
        .ok_or_else(|| CoreError::new(ErrorCode::NotSetUp, "the branch is not set up yet"))
}

/// One log line per case step: C1 facts only (ids, case number, action, state, actor), never
/// a C2 value (docs/domain.md §5).
pub(crate) fn log_step(actor: &Actor, view: &CaseView) {
    tracing::info!(
        case_id = %view.case.id,
        case_number = %view.case.case_number,
        action = view.history.last().map_or("", |e| e.action.as_str()),
        state = %view.case.state,
        actor = %actor.staff_id(),
        terminal = %actor.terminal(),
        "case step"
    );
}

/// Build an audit draft.
#[allow(clippy::too_many_arguments)]
pub(crate) fn draft(
    at: DateTime<Utc>,
    who: &StaffId,
    role: Option<Role>,
    terminal: &str,
    case_id: Option<CaseId>,
    action: &str,
    from: Option<CaseState>,
    to: Option<CaseState>,
    reason: &str,
    outcome: Outcome,
    detail: &str,
) -> AuditDraft {
    AuditDraft {
        at,
        staff_id: who.to_string(),
        role,
        terminal: terminal.to_string(),
        case_id,
        action: action.to_string(),
        from_state: from,
        to_state: to,
        reason: reason.to_string(),
        outcome,
        detail: detail.to_string(),
    }
}

/// An audit draft of an actor's own act (no state change), the common case outside steps.
pub(crate) fn act(
    at: DateTime<Utc>,
    actor: &Actor,
    case_id: Option<CaseId>,
    action: &str,
    detail: &str,
) -> AuditDraft {
    draft(
        at,
        actor.staff_id(),
        actor.role(),
        actor.terminal(),
        case_id,
        action,
        None,
        None,
        "",
        Outcome::Ok,
        detail,
    )
}
