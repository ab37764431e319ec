//! The wallet operator's connector in the flow, and the outbox worker ([`crate::operator`]).
//!
//! * `wallet_status`: ask the operator about the case's wallet; an operator-flagged authority
//!   freeze refuses the case (`refused-authority-freeze`).
//! * `request_unlock`: after the approval, record the request with a fresh idempotency key
//!   (committed **before** anything is sent), then call the operator: `Confirmed` → `unlocked`,
//!   `Rejected` → `unlock-failed`, no final answer → the case waits and the outbox worker
//!   settles it by status queries with the same key. Asking again on a waiting case does the
//!   same at once.
//! * `deliver_outbox`: one round of the worker: claim due messages (a lease, so a worker killed
//!   mid-send delays a message and never loses it), send each SMS with its message id (the
//!   gateway drops duplicates), settle waiting cases; back off with jitter on failure.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use ts_rs::TS;

use super::*;
use crate::operator::*;

/// What one round of the outbox worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DeliveryRound {
    /// Messages taken in this round.
    pub claimed: u32,
    /// SMS accepted by the gateway.
    pub sent: u32,
    /// SMS that failed for good in this round.
    pub failed: u32,
    /// SMS and settle jobs put back for a later attempt.
    pub retried: u32,
    /// Cases waiting for the operator that got their final answer.
    pub settled: u32,
    /// Messages still queued after the round (due now or later).
    pub queued: u32,
    /// When the next queued message is due, if any.
    pub next_due: Option<DateTime<Utc>>,
}

impl DeliveryRound {
    /// How long from `now` until the next queued message is due (zero when it is due
    /// already); `None` when nothing is queued. A worker sleeps that long between rounds,
    /// within bounds of its own.
    pub fn until_next_due(&self, now: DateTime<Utc>) -> Option<std::time::Duration> {
        self.next_due
            .map(|t| (t - now).to_std().unwrap_or_default())
    }
}

/// How many messages one round takes at most.
const ROUND: u32 = 32;

/// Free text from the operator as kept on the case: trimmed, at most `max` characters, runs of
/// digits masked (it may echo a wallet id or a phone number).
fn operator_text(s: &str, max: usize) -> String {
    let t: String = s.trim().chars().take(max).collect();
    crate::masking::scrub_digits(&t)
}

/// The operator's refusal codes that mean the counter can never lift the lock
/// (docs/operator-api.md): the case is refused as an authority freeze.
const FREEZE_CODES: &[&str] = &["authority-freeze", "anti-fraud-restriction"];

impl<S: Store> Service<S> {
    fn connectors(&self) -> Option<&Arc<dyn Connectors>> {
        self.connectors.as_ref()
    }

    /// The wallet operator of the case's appointment when the case has no form naming one
    /// (what [`Service::operator_for`] falls back to); `None` without connectors, so a branch
    /// on the manual path reads nothing more.
    pub(crate) fn appointment_operator(
        &self,
        tx: &mut dyn ReadTx,
        case: &Case,
    ) -> CoreResult<Option<String>> {
        let named = case
            .form
            .as_ref()
            .is_some_and(|f| !f.wallet_operator.trim().is_empty());
        match case.appointment_id {
            Some(a) if !named && self.connectors().is_some() => {
                Ok(tx.appointment(a)?.map(|a| a.wallet_operator))
            }
            _ => Ok(None),
        }
    }

    /// The connector of the case's wallet operator (the form's, else the appointment's).
    fn operator_for(
        &self,
        case: &Case,
        branch: &Branch,
        appointment_operator: Option<&str>,
    ) -> Option<Arc<dyn WalletOperator>> {
        let name = case
            .form
            .as_ref()
            .map(|f| f.wallet_operator.as_str())
            .filter(|n| !n.trim().is_empty())
            .or(appointment_operator)
            .unwrap_or("");
        self.connectors()?.operator(branch, name)
    }

    /// The case, its branch and its operator's connector; `invalid` field `wallet_operator`
    /// rule `no-connector` when the manual path applies.
    fn case_with_operator(
        &self,
        case_id: CaseId,
    ) -> CoreResult<(Case, Branch, Arc<dyn WalletOperator>)> {
        let (case, branch, appointment_operator) = self.store.read(|tx| {
            let c = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
            let op = self.appointment_operator(tx, &c)?;
            Ok((c, branch_of(tx)?, op))
        })?;
        let op = self
            .operator_for(&case, &branch, appointment_operator.as_deref())
            .ok_or_else(|| {
                CoreError::field(
                    "wallet_operator",
                    "no-connector",
                    "no connector serves this wallet operator: contact the operator and record the unlock the manual way",
                )
            })?;
        Ok((case, branch, op))
    }

    /// Whether a connector serves the case's operator (the case view offers the steps).
    pub(crate) fn has_connector(
        &self,
        case: &Case,
        branch: Option<&Branch>,
        appointment_operator: Option<&str>,
    ) -> bool {
        match (self.connectors(), branch) {
            (Some(_), Some(b)) => self.operator_for(case, b, appointment_operator).is_some(),
            _ => false,
        }
    }

    // ---------------------------------------------------------------- wallet status

    /// Ask the operator about the case's wallet (`wallet_id` typed at the counter, else the
    /// form's). Audited as `wallet-status` (no number); a freeze the operator flags refuses the
    /// case. Errors: `forbidden`, `not-found`, `invalid` (`wallet_id`, `wallet_operator`
    /// rule `no-connector`), `operator-unavailable`, `illegal-transition` (a closed case).
    pub(crate) fn wallet_status(
        &self,
        actor: &Actor,
        case_id: CaseId,
        wallet_id: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::QueryWallet, Some(case_id))?;
        let (case, _, op) = self.case_with_operator(case_id)?;
        if case.state.is_terminal() || case.state == CaseState::Unlocked {
            return Err(CoreError::new(
                ErrorCode::IllegalTransition,
                format!(
                    "'wallet-status' is not allowed when the case is '{}'",
                    case.state
                ),
            ));
        }
        if waiting(&case).is_some() {
            return Err(workflow::WorkflowError::WaitingForOperator.into());
        }
        let wallet = wallet_id_for(&case, wallet_id)?;
        let status = match op.status(&wallet) {
            Ok(s) => s,
            Err(fault) => {
                let detail = serde_json::json!({
                    "wallet": crate::masking::wallet(&wallet),
                    "answer": fault.message,
                    "circuit_open": fault.kind == FaultKind::CircuitOpen,
                })
                .to_string();
                let d = AuditDraft {
                    outcome: Outcome::Refused,
                    ..act(self.now(), actor, Some(case_id), "wallet-status", &detail)
                };
                let _ = self.store.transact(|tx| tx.append_audit(&d).map(|_| ()));
                return Err(fault.into());
            }
        };
        let check = WalletCheck {
            wallet: crate::masking::wallet(&wallet),
            status: status.clone(),
            by: actor.staff_id().clone(),
            at: self.now(),
        };
        let masked_wallet = crate::masking::wallet(&wallet);
        let view = self.transition(
            actor,
            case_id,
            None,
            "wallet-status",
            move |_, _| Ok(Event::WalletStatus(check.clone())),
            move |c| {
                let s = c.wallet_check.as_ref().map(|w| &w.status);
                serde_json::json!({
                    "wallet": masked_wallet,
                    "locked": s.map(|s| s.locked),
                    "lock_cause": s.map(|s| s.lock_cause.clone()),
                    "authority_freeze": s.map(|s| s.authority_freeze),
                })
                .to_string()
            },
        )?;
        if !status.authority_freeze {
            return Ok(view);
        }
        // The operator's own flag: never unlocked at the counter (docs/domain.md §1).
        self.transition(
            actor,
            case_id,
            None,
            "refuse-authority-freeze",
            |_, _| {
                Ok(Event::RefuseAuthorityFreeze {
                    reason: "the wallet operator flags an authority-ordered freeze".into(),
                })
            },
            |_| "{\"source\":\"wallet-operator\"}".into(),
        )
    }

    // ---------------------------------------------------------------- unlock

    /// Ask the operator's connector for the unlock of an approved case, or ask again on a
    /// waiting one (same key). Returns the case: `unlocked`, `unlock-failed`, or still waiting
    /// (`operator_unlock.status` = `waiting`). Errors: `forbidden`, `not-found`,
    /// `illegal-transition` (not approved), `authority-freeze`, `invalid` field
    /// `wallet_operator` rule `no-connector`, `operator-unavailable` (its circuit is open and
    /// nothing was asked).
    pub(crate) fn request_unlock(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::RequestUnlock, Some(case_id))?;
        let (case, _, op) = self.case_with_operator(case_id)?;
        if waiting(&case).is_none() {
            // Nothing is recorded while the operator is known to be down.
            if let Some(reason) = op.circuit_open() {
                return Err(OperatorFault::new(FaultKind::CircuitOpen, reason).into());
            }
            let key = self.uuid().to_string();
            let by = actor.staff_id().clone();
            let now = self.now();
            self.transition(
                actor,
                case_id,
                idem,
                "request-unlock",
                move |_, _| {
                    Ok(Event::RequestUnlock(OperatorUnlock {
                        key: key.clone(),
                        by: by.clone(),
                        at: now,
                        status: OperatorUnlockStatus::Waiting,
                        calls: 0,
                        last_answer: String::new(),
                        reference: String::new(),
                        settled_at: None,
                    }))
                },
                |_| "{}".into(),
            )?;
        }
        self.settle(actor, case_id, &op)?;
        self.case_view(actor, case_id)
    }

    /// One call for a waiting case under its key, and its answer recorded. The first call
    /// sends the request; later ones ask its status first and send it again (same key) only
    /// when the operator never received it. Returns whether the case got a final answer.
    fn settle(
        &self,
        actor: &Actor,
        case_id: CaseId,
        op: &Arc<dyn WalletOperator>,
    ) -> CoreResult<bool> {
        let (case, branch) = self.store.read(|tx| {
            let c = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
            Ok((c, branch_of(tx)?))
        })?;
        let Some(asked) = waiting(&case).cloned() else {
            return Ok(true);
        };
        let wallet = case
            .form
            .as_ref()
            .map(|f| f.wallet_id.clone())
            .unwrap_or_default();
        let call = UnlockCall {
            wallet_id: wallet.clone(),
            case_number: case.case_number.clone(),
            branch_code: branch.code.clone(),
        };
        let outcome = if asked.calls == 0 {
            op.request_unlock(&call, &asked.key)
        } else {
            match op.unlock_status(&wallet, &asked.key) {
                Ok(Some(o)) => o,
                // Never received: sending it again under the same key is safe.
                Ok(None) => op.request_unlock(&call, &asked.key),
                Err(f) => UnlockOutcome::Unknown { reason: f.message },
            }
        };
        let sms =
            self.connectors().and_then(|c| c.sms(&branch)).is_some() && !case.phone.is_empty();
        let (event, final_answer) = match &outcome {
            UnlockOutcome::Confirmed { reference } => (
                Event::OperatorUnlocked {
                    reference: reference.trim().chars().take(64).collect(),
                    notified_via: if sms {
                        NotificationChannel::Sms
                    } else {
                        NotificationChannel::InPerson
                    },
                },
                true,
            ),
            // The operator's own words are shown and audited: digits scrubbed (an echoed wallet
            // id or phone never lands on the case), length capped.
            UnlockOutcome::Rejected { code, message } => (
                Event::OperatorRejected {
                    code: operator_text(code, 64),
                    message: operator_text(message, 200),
                },
                true,
            ),
            UnlockOutcome::Pending => (
                Event::OperatorNoAnswer {
                    answer: "pending: the operator has not decided yet".into(),
                },
                false,
            ),
            UnlockOutcome::Unknown { reason } => (
                Event::OperatorNoAnswer {
                    answer: format!("no answer: {reason}"),
                },
                false,
            ),
        };
        let key = asked.key.clone();
        let masked_wallet = crate::masking::wallet(&wallet);
        let res = self.transition(
            actor,
            case_id,
            None,
            event.kind().as_str(),
            move |c, _| {
                // Another worker or terminal settled it (or asked anew) meanwhile: the first
                // recorded answer stands.
                if waiting(c).is_none_or(|w| w.key != key) {
                    return Err(CoreError::conflict(
                        "the operator's answer was already recorded",
                    ));
                }
                Ok(event.clone())
            },
            move |c| {
                let u = c.operator_unlock.as_ref();
                serde_json::json!({
                    "wallet": masked_wallet,
                    "key": u.map(|u| u.key.clone()),
                    "calls": u.map(|u| u.calls),
                    "answer": u.map(|u| u.last_answer.clone()),
                    "reference": u.map(|u| u.reference.clone()),
                })
                .to_string()
            },
        );
        match res {
            Ok(_) => {}
            // Settled (or stopped) meanwhile by another worker, terminal or step: the first
            // recorded answer stands.
            Err(e)
                if matches!(
                    e.code,
                    ErrorCode::Conflict | ErrorCode::IllegalTransition | ErrorCode::AuthorityFreeze
                ) =>
            {
                return Ok(true)
            }
            Err(e) => return Err(e),
        }
        // The operator refuses because of an authority-ordered freeze or an anti-fraud
        // restriction: the case is refused, never retried at the counter.
        if let UnlockOutcome::Rejected { code, .. } = &outcome {
            if FREEZE_CODES.contains(&code.trim()) {
                let reason = format!("the wallet operator refused the unlock: {code}");
                self.transition(
                    actor,
                    case_id,
                    None,
                    "refuse-authority-freeze",
                    |_, _| {
                        Ok(Event::RefuseAuthorityFreeze {
                            reason: reason.clone(),
                        })
                    },
                    |_| "{\"source\":\"wallet-operator\"}".into(),
                )?;
            }
        }
        Ok(final_answer)
    }

    // ---------------------------------------------------------------- the outbox

    /// Queue the customer's unlock SMS (effect of the step that unlocked the case, same
    /// transaction), when the branch has a gateway and the case a phone.
    pub(crate) fn queue_unlock_sms(&self, tx: &mut dyn WriteTx, case_id: CaseId) -> CoreResult<()> {
        let branch = branch_of(tx)?;
        if self.connectors().and_then(|c| c.sms(&branch)).is_none() {
            return Ok(());
        }
        let Some(case) = tx.case(case_id)? else {
            return Ok(());
        };
        if case.phone.is_empty() {
            return Ok(());
        }
        let lang = sms_lang(&case);
        let now = self.now();
        tx.queue_outbox(&OutboxMessage {
            id: self.uuid().to_string(),
            case_id,
            kind: OutboxKind::Sms,
            lang: lang.into(),
            text: unlock_sms_text(lang, &branch.name, &case.case_number),
            status: OutboxStatus::Queued,
            attempts: 0,
            next_attempt_at: now,
            claimed_until: None,
            last_error: String::new(),
            created_at: now,
            sent_at: None,
        })
    }

    /// Queue the job that settles a case waiting for the operator (effect of `request-unlock`),
    /// first due a second on: the terminal asking now usually settles it itself.
    pub(crate) fn queue_settle(&self, tx: &mut dyn WriteTx, case_id: CaseId) -> CoreResult<()> {
        let now = self.now();
        tx.queue_outbox(&OutboxMessage {
            id: self.uuid().to_string(),
            case_id,
            kind: OutboxKind::OperatorSettle,
            lang: String::new(),
            text: String::new(),
            status: OutboxStatus::Queued,
            attempts: 0,
            next_attempt_at: now + chrono::Duration::seconds(1),
            claimed_until: None,
            last_error: String::new(),
            created_at: now,
            sent_at: None,
        })
    }

    /// The customer notifications of one case or of all, newest first (at most 500).
    /// Errors: `forbidden`.
    pub(crate) fn notifications(
        &self,
        actor: &Actor,
        case_id: Option<CaseId>,
    ) -> CoreResult<Vec<OutboxMessage>> {
        self.permit(actor, Action::Notifications, case_id)?;
        self.store
            .read(|tx| tx.outbox(case_id, Some(OutboxKind::Sms), 500))
    }

    /// A jitter in [0, 1) from the entropy source.
    fn jitter(&self) -> f64 {
        let b = self.uuid().into_bytes();
        u16::from_le_bytes([b[0], b[1]]) as f64 / 65536.0
    }

    /// One round of the outbox worker (see the module doc). Errors: `forbidden` (tellers,
    /// supervisors, admins and the worker may run it), storage errors.
    pub(crate) fn deliver_outbox(&self, actor: &Actor) -> CoreResult<DeliveryRound> {
        self.permit(actor, Action::Notifications, None)?;
        let branch = self.branch()?;
        // Only what this process can do: SMS with a gateway, settle jobs with connectors (a
        // server of the branch without them leaves the rows to one that has them).
        let mut kinds = Vec::new();
        if let Some(c) = self.connectors() {
            kinds.push(OutboxKind::OperatorSettle);
            if c.sms(&branch).is_some() {
                kinds.push(OutboxKind::Sms);
            }
        }
        if kinds.is_empty() {
            return Err(CoreError::field(
                "operator_connectors",
                "no-connector",
                "no SMS gateway or wallet operator connector is configured here \
                 (UNLOCKDESK_OPERATOR_URL or the branch's operator_connectors): nothing to deliver",
            ));
        }
        // Whoever asked for the round, the calls and their audit events are the outbox
        // worker's: a teller or an administrator running it acts on nobody's case.
        let worker = Actor::system(SystemActor::OutboxWorker, actor.terminal());
        let mut round = DeliveryRound::default();
        // One message per claim: each lease covers one delivery (at most the connector's
        // bounded call), never a batch that could outlast it.
        while round.claimed < ROUND {
            let now = self.now();
            let Some(mut m) = self
                .store
                .transact(|tx| tx.claim_outbox(now, now + self.outbox_lease, 1, &kinds))?
                .pop()
            else {
                break;
            };
            round.claimed += 1;
            let done = match m.kind {
                OutboxKind::Sms => self.deliver_sms(&worker, &branch, &mut m, &mut round),
                OutboxKind::OperatorSettle => self.run_settle(&worker, &mut m, &mut round),
            };
            // One message's trouble (the store busy, a case in an odd state) never stops the
            // others; its lease runs out and it is taken again.
            if let Err(e) = done {
                tracing::warn!(message_id = %m.id, code = ?e.code, "outbox message left for later");
            }
        }
        let (queued, next_due) = self
            .store
            .read(|tx| Ok((tx.count_queued_outbox()?, tx.next_outbox_due()?)))?;
        round.queued = u32::try_from(queued).unwrap_or(u32::MAX);
        round.next_due = next_due;
        Ok(round)
    }

    fn deliver_sms(
        &self,
        actor: &Actor,
        branch: &Branch,
        m: &mut OutboxMessage,
        round: &mut DeliveryRound,
    ) -> CoreResult<()> {
        // Not sent from here at all (no attempt counted): this process has no gateway (another
        // server of the branch may, and takes it), or the gateway's circuit is open.
        let gw = match self.connectors().and_then(|c| c.sms(branch)) {
            None => return self.hold(m, round, "no SMS gateway is configured here", 5),
            Some(gw) if gw.circuit_open().is_some() => {
                return self.hold(
                    m,
                    round,
                    "the SMS gateway is not answering (circuit open)",
                    1,
                )
            }
            Some(gw) => gw,
        };
        let phone = self
            .store
            .read(|tx| Ok(tx.case(m.case_id)?.map(|c| c.phone)))?
            .unwrap_or_default();
        let result = if phone.is_empty() {
            Err(DeliveryFault {
                retryable: false,
                message: "the case has no phone number (purged or never recorded)".into(),
            })
        } else {
            gw.send(&SmsMessage {
                message_id: m.id.clone(),
                to: phone,
                lang: m.lang.clone(),
                text: m.text.clone(),
            })
        };
        let now = self.now();
        m.attempts += 1;
        m.claimed_until = None;
        let audit = match result {
            Ok(()) => {
                m.status = OutboxStatus::Sent;
                m.sent_at = Some(now);
                m.last_error.clear();
                round.sent += 1;
                Some("notification-sent")
            }
            Err(f) if !f.retryable || m.attempts >= MAX_ATTEMPTS => {
                m.status = OutboxStatus::Failed;
                m.last_error = f.message;
                round.failed += 1;
                Some("notification-failed")
            }
            Err(f) => {
                m.next_attempt_at = now + next_attempt_delay(m.attempts, self.jitter());
                m.last_error = f.message;
                round.retried += 1;
                None
            }
        };
        let detail = serde_json::json!({
            "message_id": m.id,
            "channel": "sms",
            "attempts": m.attempts,
            "error": m.last_error,
        })
        .to_string();
        self.store.transact(|tx| {
            tx.update_outbox(m)?;
            if let Some(action) = audit {
                tx.append_audit(&act(now, actor, Some(m.case_id), action, &detail))?;
            }
            Ok(())
        })
    }

    /// Put a message back, due again in `secs` seconds, without counting an attempt.
    fn hold(
        &self,
        m: &mut OutboxMessage,
        round: &mut DeliveryRound,
        why: &str,
        secs: i64,
    ) -> CoreResult<()> {
        m.claimed_until = None;
        m.next_attempt_at = self.now() + chrono::Duration::seconds(secs);
        m.last_error = why.into();
        round.retried += 1;
        self.store.transact(|tx| tx.update_outbox(m))
    }

    fn run_settle(
        &self,
        actor: &Actor,
        m: &mut OutboxMessage,
        round: &mut DeliveryRound,
    ) -> CoreResult<()> {
        let now = self.now();
        m.attempts += 1;
        m.claimed_until = None;
        let done = match self.case_with_operator(m.case_id) {
            Ok((case, _, op)) => {
                if waiting(&case).is_none() {
                    true
                } else if op.circuit_open().is_some() {
                    m.last_error = "the operator's circuit is open".into();
                    false
                } else {
                    let settled = self.settle(actor, m.case_id, &op)?;
                    if settled {
                        round.settled += 1;
                    } else {
                        m.last_error = "no final answer yet".into();
                    }
                    settled
                }
            }
            // The case is gone: nothing left to settle.
            Err(e) if e.code == ErrorCode::NotFound => {
                m.last_error = e.message;
                true
            }
            // No connector here for its operator: another server of the branch may have one;
            // asked again in a minute, no attempt counted.
            Err(e) if e.code == ErrorCode::Invalid => {
                m.attempts -= 1;
                return self.hold(m, round, &e.message, 60);
            }
            Err(e) => return Err(e),
        };
        if done {
            m.status = OutboxStatus::Sent;
            m.sent_at = Some(now);
        } else {
            // A waiting case is asked again and again (1 s doubling, capped at 32 s), never
            // given up: the operator owes an answer, and the case shows it waits.
            m.next_attempt_at = now + next_attempt_delay(m.attempts.min(6), self.jitter());
            round.retried += 1;
        }
        self.store.transact(|tx| tx.update_outbox(m))
    }
}
