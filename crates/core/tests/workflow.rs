//! Table-driven tests of every (state, event) pair and property tests of random event
//! sequences for the pure case workflow.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use unlockdesk_core::workflow::{
    self, allowed_events, check_invariants, next_state, Effect, Event, EventKind, WorkflowError,
};
use unlockdesk_core::*;

/// The next case of [`workflow::step`] (most tests here look at the case only).
fn step(
    case: &Case,
    actor: &StaffId,
    event: &Event,
    at: chrono::DateTime<Utc>,
) -> Result<Case, WorkflowError> {
    workflow::step(case, actor, event, at).map(|s| s.case)
}

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).unwrap()
}
fn sid(s: &str) -> StaffId {
    StaffId::parse(s).unwrap()
}

fn identity(needs_cocheck: bool) -> IdentityRecord {
    IdentityRecord {
        kind: if needs_cocheck {
            DocumentType::PassportMrz
        } else {
            DocumentType::PrcId
        },
        number: "11010519491231002X".into(),
        name_on_document: "测试甲".into(),
        birth_date: None,
        expiry: None,
        name_matches: true,
        reference: None,
        needs_cocheck,
        checked_by: sid("tel01"),
        checked_at: t0(),
        cochecked_by: None,
        cochecked_at: None,
        minor: false,
        online_check: Some(OnlineCheck {
            result: OnlineCheckResult::Match,
            reference: "LWHC-1".into(),
        }),
        second_factor: None,
        sex: None,
        nationality: "CHN".into(),
        name_latin: String::new(),
        long_term: true,
    }
}

fn form(cause: LockCause) -> ApplicationForm {
    ApplicationForm {
        customer_name: "测试甲".into(),
        phone: "13123456789".into(),
        lock_cause: Some(cause),
        requested_action: Some(RequestedAction::Unlock),
        ..Default::default()
    }
}

fn new_case() -> Case {
    Case {
        id: CaseId(uuid::Uuid::nil()),
        case_number: "T1-20261129-0001".into(),
        state: CaseState::CheckedIn,
        version: 1,
        appointment_id: None,
        customer_name: "测试甲".into(),
        phone: String::new(),
        lock_cause: Some(LockCause::WrongPassword),
        opened_by: sid("tel01"),
        opened_at: t0(),
        updated_at: t0(),
        makers: vec![sid("tel01")],
        identity: None,
        form: None,
        form_signed_at: None,
        authorization: None,
        unlock: None,
        unlock_failures: vec![],
        contacts: vec![],
        last_reason: String::new(),
        form_revision: 0,
        prints: vec![],
        receipt_waiver: None,
        unlock_request: None,
        signed_scans: Vec::new(),
        purges: Vec::new(),
        operator_unlock: None,
        wallet_check: None,
    }
}

/// A delivered print of `kind` (bank copy) of the case's current form revision.
fn printed(c: &Case, kind: print::DocumentKind) -> PrintRecord {
    PrintRecord {
        document_id: format!("doc-{}", c.prints.len() + 1),
        kind,
        copy: print::CopyKind::Bank,
        form_revision: c.form_revision,
        reprint: false,
        channel: Some(PrintChannel::Cups),
        printer: Some("CUPS-PDF".into()),
        job_id: Some(format!("CUPS-PDF-{}", c.prints.len() + 1)),
        outcome: PrintOutcome::Completed,
        message: String::new(),
        by: sid("tel01"),
        at: t0(),
    }
}

/// The evidence the teller gathers before the next step of the main path: the printed form
/// before signing, the operator contact before the unlock, the receipt before closing.
fn with_evidence(mut c: Case, next: EventKind) -> Case {
    match next {
        EventKind::ConfirmSigned if !c.form_printed() && c.form.is_some() => {
            let p = printed(&c, print::DocumentKind::Application);
            c.prints.push(p);
        }
        EventKind::ConfirmUnlock | EventKind::RequestConfirmUnlock if c.contacts.is_empty() => {
            c.contacts.push(OperatorContact {
                channel: ContactChannel::Phone,
                at: t0(),
                ticket: "OP-1".into(),
                result: "unlocked".into(),
                by: sid("tel01"),
            })
        }
        EventKind::OperatorUnlocked | EventKind::OperatorRejected | EventKind::OperatorNoAnswer
            if c.operator_unlock.is_none() =>
        {
            c.operator_unlock = Some(OperatorUnlock {
                key: "key-1".into(),
                by: sid("tel01"),
                at: t0(),
                status: OperatorUnlockStatus::Waiting,
                calls: 0,
                last_answer: String::new(),
                reference: String::new(),
                settled_at: None,
            })
        }
        EventKind::Close if !c.receipt_printed() => {
            let p = printed(&c, print::DocumentKind::Receipt);
            c.prints.push(p);
        }
        _ => {}
    }
    c
}

/// A representative event of each kind, authorized by `sup`.
fn event_of(kind: EventKind, sup: &str) -> Event {
    let sup = sid(sup);
    match kind {
        EventKind::VerifyIdentity => Event::VerifyIdentity(identity(false)),
        EventKind::CocheckIdentity => Event::CoCheckIdentity { supervisor: sup },
        EventKind::RecordForm => Event::RecordForm(form(LockCause::WrongPassword)),
        EventKind::ConfirmSigned => Event::ConfirmSigned,
        EventKind::Submit => Event::Submit,
        EventKind::Approve => Event::Authorize {
            decision: Decision::Approve,
            supervisor: sup,
            reason_code: None,
            reason: String::new(),
        },
        EventKind::ReturnForInfo => Event::Authorize {
            decision: Decision::ReturnForInfo,
            supervisor: sup,
            reason_code: Some(ReasonCode::FormIncomplete),
            reason: "address missing".into(),
        },
        EventKind::Reject => Event::Authorize {
            decision: Decision::Reject,
            supervisor: sup,
            reason_code: Some(ReasonCode::IdentityDoubt),
            reason: "photo does not match".into(),
        },
        EventKind::LogContact => Event::LogContact(OperatorContact {
            channel: ContactChannel::Phone,
            at: t0(),
            ticket: "OP-1".into(),
            result: "queried".into(),
            by: sid("tel01"),
        }),
        EventKind::RequestConfirmUnlock => Event::RequestConfirmUnlock(UnlockRequest {
            operator_reference: "OPREF-9".into(),
            notified_via: NotificationChannel::InPerson,
            by: sid("tel02"),
            at: t0(),
        }),
        EventKind::ConfirmUnlock => Event::ConfirmUnlock(UnlockRecord {
            operator_reference: "OPREF-9".into(),
            notified_via: NotificationChannel::InPerson,
            notified_at: t0(),
            confirmed_by: sid("tel01"),
            authorized_by: sup,
            at: t0(),
        }),
        EventKind::RecordUnlockFailure => Event::RecordUnlockFailure(UnlockFailure {
            reason: "operator system down".into(),
            next: UnlockFailureNext::Retry,
            operator_ticket: "OP-2".into(),
            by: sid("tel01"),
            at: t0(),
        }),
        EventKind::WalletStatus => Event::WalletStatus(WalletCheck {
            wallet: "0099********9012".into(),
            status: unlockdesk_core::operator::WalletStatus {
                locked: true,
                lock_cause: "wrong-password".into(),
                locked_since: None,
                authority_freeze: false,
            },
            by: sid("tel01"),
            at: t0(),
        }),
        EventKind::RequestUnlock => Event::RequestUnlock(OperatorUnlock {
            key: "key-2".into(),
            by: sid("tel01"),
            at: t0(),
            status: OperatorUnlockStatus::Waiting,
            calls: 0,
            last_answer: String::new(),
            reference: String::new(),
            settled_at: None,
        }),
        EventKind::OperatorUnlocked => Event::OperatorUnlocked {
            reference: "OPREF-1".into(),
            notified_via: NotificationChannel::Sms,
        },
        EventKind::OperatorRejected => Event::OperatorRejected {
            code: "wallet-closed".into(),
            message: "closed".into(),
        },
        EventKind::OperatorNoAnswer => Event::OperatorNoAnswer {
            answer: "no answer: timed out".into(),
        },
        EventKind::Close => Event::Close {
            receipt_waiver: None,
        },
        EventKind::Cancel => Event::Cancel {
            reason: "customer left".into(),
        },
        EventKind::RefuseAuthorityFreeze => Event::RefuseAuthorityFreeze {
            reason: "court order".into(),
        },
    }
}

/// Drive a fresh case to `target` along the main path (plus side exits).
fn case_in(target: CaseState) -> Case {
    use CaseState as S;
    let path: &[EventKind] = match target {
        S::CheckedIn => &[],
        S::IdentityVerified => &[EventKind::VerifyIdentity],
        S::FormRecorded => &[EventKind::VerifyIdentity, EventKind::RecordForm],
        S::FormSigned => &[
            EventKind::VerifyIdentity,
            EventKind::RecordForm,
            EventKind::ConfirmSigned,
        ],
        S::Submitted => &[
            EventKind::VerifyIdentity,
            EventKind::RecordForm,
            EventKind::ConfirmSigned,
            EventKind::Submit,
        ],
        S::Approved => &[
            EventKind::VerifyIdentity,
            EventKind::RecordForm,
            EventKind::ConfirmSigned,
            EventKind::Submit,
            EventKind::Approve,
        ],
        S::ReturnedForInfo => &[
            EventKind::VerifyIdentity,
            EventKind::RecordForm,
            EventKind::ConfirmSigned,
            EventKind::Submit,
            EventKind::ReturnForInfo,
        ],
        S::Rejected => &[
            EventKind::VerifyIdentity,
            EventKind::RecordForm,
            EventKind::ConfirmSigned,
            EventKind::Submit,
            EventKind::Reject,
        ],
        S::Unlocked => &[
            EventKind::VerifyIdentity,
            EventKind::RecordForm,
            EventKind::ConfirmSigned,
            EventKind::Submit,
            EventKind::Approve,
            EventKind::ConfirmUnlock,
        ],
        S::UnlockFailed => &[
            EventKind::VerifyIdentity,
            EventKind::RecordForm,
            EventKind::ConfirmSigned,
            EventKind::Submit,
            EventKind::Approve,
            EventKind::RecordUnlockFailure,
        ],
        S::Closed => &[
            EventKind::VerifyIdentity,
            EventKind::RecordForm,
            EventKind::ConfirmSigned,
            EventKind::Submit,
            EventKind::Approve,
            EventKind::ConfirmUnlock,
            EventKind::Close,
        ],
        S::Cancelled => &[EventKind::Cancel],
        S::RefusedIdentity => {
            let mut c = new_case();
            let mut id = identity(false);
            id.online_check = Some(OnlineCheck {
                result: OnlineCheckResult::Mismatch,
                reference: "LWHC-2".into(),
            });
            c = step(&c, &sid("tel01"), &Event::VerifyIdentity(id), t0()).unwrap();
            assert_eq!(c.state, target);
            return c;
        }
        S::RefusedAuthorityFreeze => &[EventKind::RefuseAuthorityFreeze],
    };
    let mut c = new_case();
    for k in path {
        c = with_evidence(c, *k);
        c = step(&c, &sid("tel01"), &event_of(*k, "sup01"), t0())
            .unwrap_or_else(|e| panic!("{k}: {e}"));
    }
    assert_eq!(c.state, target);
    c
}

/// The expected table: (state, event) → next state, or None when illegal.
fn expected(state: CaseState, event: EventKind) -> Option<CaseState> {
    use CaseState as S;
    use EventKind as E;
    let terminal = matches!(
        state,
        S::Closed | S::Cancelled | S::Rejected | S::RefusedAuthorityFreeze | S::RefusedIdentity
    );
    if terminal {
        return None;
    }
    match event {
        E::VerifyIdentity => matches!(
            state,
            S::CheckedIn | S::IdentityVerified | S::ReturnedForInfo
        )
        .then_some(S::IdentityVerified),
        // needs a document that requires co-check: prc-id never does
        E::CocheckIdentity => None,
        E::RecordForm => matches!(
            state,
            S::IdentityVerified | S::FormRecorded | S::FormSigned | S::ReturnedForInfo
        )
        .then_some(S::FormRecorded),
        E::ConfirmSigned => (state == S::FormRecorded).then_some(S::FormSigned),
        E::Submit => (state == S::FormSigned).then_some(S::Submitted),
        E::Approve => (state == S::Submitted).then_some(S::Approved),
        E::ReturnForInfo => (state == S::Submitted).then_some(S::ReturnedForInfo),
        E::Reject => (state == S::Submitted).then_some(S::Rejected),
        E::LogContact => Some(state),
        E::RequestConfirmUnlock => matches!(state, S::Approved | S::UnlockFailed).then_some(state),
        E::ConfirmUnlock => matches!(state, S::Approved | S::UnlockFailed).then_some(S::Unlocked),
        E::RecordUnlockFailure => {
            matches!(state, S::Approved | S::UnlockFailed).then_some(S::UnlockFailed)
        }
        E::Close => (state == S::Unlocked).then_some(S::Closed),
        E::Cancel => (state != S::Unlocked).then_some(S::Cancelled),
        E::RefuseAuthorityFreeze => matches!(
            state,
            S::CheckedIn
                | S::IdentityVerified
                | S::FormRecorded
                | S::FormSigned
                | S::Submitted
                | S::ReturnedForInfo
                | S::Approved
                | S::UnlockFailed
        )
        .then_some(S::RefusedAuthorityFreeze),
        E::WalletStatus => (state != S::Unlocked).then_some(state),
        E::RequestUnlock | E::OperatorNoAnswer => {
            matches!(state, S::Approved | S::UnlockFailed).then_some(state)
        }
        E::OperatorUnlocked => {
            matches!(state, S::Approved | S::UnlockFailed).then_some(S::Unlocked)
        }
        E::OperatorRejected => {
            matches!(state, S::Approved | S::UnlockFailed).then_some(S::UnlockFailed)
        }
    }
}

#[test]
fn every_state_event_pair_matches_the_table() {
    let mut checked = 0;
    for &state in CaseState::ALL {
        for &kind in EventKind::ALL {
            let case = with_evidence(case_in(state), kind);
            let got = step(&case, &sid("tel01"), &event_of(kind, "sup01"), t0());
            match (expected(state, kind), got) {
                (Some(to), Ok(c)) => {
                    assert_eq!(c.state, to, "{state} + {kind}");
                    assert_eq!(c.version, case.version + 1);
                    check_invariants(&c).unwrap_or_else(|e| panic!("{state} + {kind}: {e}"));
                }
                (None, Err(e)) => {
                    // An illegal pair names the state and the event.
                    if let WorkflowError::IllegalTransition { state: s, event } = &e {
                        assert_eq!((*s, *event), (state, kind));
                        let msg = CoreError::from(e.clone()).message;
                        assert!(
                            msg.contains(state.as_str()) && msg.contains(kind.as_str()),
                            "{msg}"
                        );
                    } else if kind != EventKind::CocheckIdentity
                        && !matches!(e, WorkflowError::AlreadyDecided { .. })
                    {
                        panic!("{state} + {kind}: unexpected refusal {e:?}");
                    }
                }
                (exp, got) => panic!("{state} + {kind}: expected {exp:?}, got {got:?}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, CaseState::ALL.len() * EventKind::ALL.len());
}

/// Each guard is written once: what `allowed_events` offers is exactly what `step` accepts.
#[test]
fn allowed_events_are_exactly_the_events_step_accepts() {
    for &state in CaseState::ALL {
        for &k in EventKind::ALL {
            let case = with_evidence(case_in(state), k);
            let allowed = allowed_events(&case);
            let ok = step(&case, &sid("tel01"), &event_of(k, "sup01"), t0()).is_ok();
            // The operator's answers are recorded by the connector, never offered as steps.
            let offered = ok && !k.is_operator_answer();
            assert_eq!(allowed.contains(&k), offered, "{state} + {k}");
        }
    }
}

#[test]
fn a_step_returns_its_audit_facts_and_effects() {
    // Approve: the supervisor's act, reasons empty, no effect.
    let submitted = case_in(CaseState::Submitted);
    let s = workflow::step(
        &submitted,
        &sid("tel01"),
        &event_of(EventKind::Approve, "sup01"),
        t0(),
    )
    .unwrap();
    assert_eq!(s.audit.action, "approve");
    assert_eq!(
        (s.audit.from, s.audit.to),
        (CaseState::Submitted, CaseState::Approved)
    );
    assert_eq!(s.audit.by, sid("sup01"));
    assert!(s.audit.authorized);
    assert!(s.effects.is_empty());
    // Return for info: the reason code and text make the audit reason.
    let s = workflow::step(
        &submitted,
        &sid("tel01"),
        &event_of(EventKind::ReturnForInfo, "sup01"),
        t0(),
    )
    .unwrap();
    assert!(
        s.audit.reason.starts_with("form-incomplete"),
        "{}",
        s.audit.reason
    );
    // A form recorded again is an amendment.
    let recorded = case_in(CaseState::FormRecorded);
    let s = workflow::step(
        &recorded,
        &sid("tel01"),
        &event_of(EventKind::RecordForm, "sup01"),
        t0(),
    )
    .unwrap();
    assert_eq!(s.audit.action, "amend-form");
    assert_eq!(s.audit.by, sid("tel01"));
    assert!(!s.audit.authorized);
    // A terminal state of a case opened from an appointment: the appointment is done.
    let mut unlocked = with_evidence(case_in(CaseState::Unlocked), EventKind::Close);
    let aid = AppointmentId(uuid::Uuid::from_u128(7));
    unlocked.appointment_id = Some(aid);
    let close = event_of(EventKind::Close, "sup01");
    let s = workflow::step(&unlocked, &sid("tel01"), &close, t0()).unwrap();
    assert_eq!(s.effects, vec![Effect::AppointmentDone(aid)]);
    let mut cancel = case_in(CaseState::CheckedIn);
    cancel.appointment_id = Some(aid);
    let s = workflow::step(
        &cancel,
        &sid("tel01"),
        &event_of(EventKind::Cancel, "sup01"),
        t0(),
    )
    .unwrap();
    assert_eq!(s.effects, vec![Effect::AppointmentDone(aid)]);
    assert_eq!(s.audit.reason, "customer left");
}

#[test]
fn a_decision_on_a_decided_case_names_the_winner() {
    let approved = case_in(CaseState::Approved);
    let e = workflow::step(
        &approved,
        &sid("tel01"),
        &event_of(EventKind::Reject, "sup02"),
        t0(),
    )
    .unwrap_err();
    match &e {
        WorkflowError::AlreadyDecided { state, by } => {
            assert_eq!(*state, CaseState::Approved);
            assert_eq!(by, &approved.authorization.as_ref().unwrap().supervisor);
        }
        other => panic!("{other:?}"),
    }
    let core = CoreError::from(e);
    assert_eq!(core.code, ErrorCode::Conflict);
    assert!(core
        .message
        .starts_with("already decided: the case is approved"));
}

#[test]
fn next_state_table_agrees_with_allowed_events() {
    for &state in CaseState::ALL {
        let case = case_in(state);
        for k in allowed_events(&case) {
            // Close is offered without a receipt too: with the reason why not.
            let case = with_evidence(case.clone(), k);
            assert!(
                step(&case, &sid("tel01"), &event_of(k, "sup01"), t0()).is_ok(),
                "{state}: {k} offered but refused"
            );
        }
        for &k in EventKind::ALL {
            if next_state(state, k).is_none() {
                assert!(!allowed_events(&case).contains(&k));
            }
        }
    }
}

#[test]
fn four_eyes_refuses_a_maker_on_every_authorizing_path() {
    // tel01 is the maker; sup01 made the form too in this variant.
    let mut c = case_in(CaseState::FormRecorded);
    c = step(
        &c,
        &sid("sup01"),
        &Event::RecordForm(form(LockCause::WrongPassword)),
        t0(),
    )
    .unwrap();
    c = with_evidence(c, EventKind::ConfirmSigned);
    c = step(&c, &sid("tel01"), &Event::ConfirmSigned, t0()).unwrap();
    c = step(&c, &sid("tel01"), &Event::Submit, t0()).unwrap();
    for kind in [
        EventKind::Approve,
        EventKind::ReturnForInfo,
        EventKind::Reject,
    ] {
        for who in ["tel01", "sup01"] {
            let err = step(&c, &sid("tel01"), &event_of(kind, who), t0()).unwrap_err();
            assert!(
                matches!(err, WorkflowError::FourEyes { .. }),
                "{kind} by {who}: {err:?}"
            );
            assert_eq!(CoreError::from(err).code, ErrorCode::FourEyes);
        }
    }
    // Canonical ids: SUP01 is sup01.
    let err = step(
        &c,
        &sid("tel01"),
        &event_of(EventKind::Approve, "SUP01"),
        t0(),
    )
    .unwrap_err();
    assert!(matches!(err, WorkflowError::FourEyes { .. }));
    // A non-maker may approve.
    let approved = step(
        &c,
        &sid("tel01"),
        &event_of(EventKind::Approve, "sup02"),
        t0(),
    )
    .unwrap();
    // confirm-unlock authorized by a maker is refused
    let approved = with_evidence(approved, EventKind::ConfirmUnlock);
    let err = step(
        &approved,
        &sid("tel01"),
        &event_of(EventKind::ConfirmUnlock, "tel01"),
        t0(),
    )
    .unwrap_err();
    assert!(matches!(err, WorkflowError::FourEyes { .. }));
    // co-check by a maker is refused
    let mut p = new_case();
    p = step(
        &p,
        &sid("tel01"),
        &Event::VerifyIdentity(identity(true)),
        t0(),
    )
    .unwrap();
    let err = step(
        &p,
        &sid("tel01"),
        &event_of(EventKind::CocheckIdentity, "tel01"),
        t0(),
    )
    .unwrap_err();
    assert!(matches!(err, WorkflowError::FourEyes { .. }));
}

#[test]
fn cochecker_is_not_a_maker_and_may_approve() {
    let mut c = new_case();
    c = step(
        &c,
        &sid("tel01"),
        &Event::VerifyIdentity(identity(true)),
        t0(),
    )
    .unwrap();
    c = step(
        &c,
        &sid("tel01"),
        &Event::RecordForm(form(LockCause::WrongPassword)),
        t0(),
    )
    .unwrap();
    c = with_evidence(c, EventKind::ConfirmSigned);
    c = step(&c, &sid("tel01"), &Event::ConfirmSigned, t0()).unwrap();
    assert_eq!(
        step(&c, &sid("tel01"), &Event::Submit, t0()).unwrap_err(),
        WorkflowError::CoCheckRequired
    );
    c = step(
        &c,
        &sid("tel01"),
        &event_of(EventKind::CocheckIdentity, "sup01"),
        t0(),
    )
    .unwrap();
    assert!(!c.is_maker(&sid("sup01")));
    c = step(&c, &sid("tel01"), &Event::Submit, t0()).unwrap();
    c = step(
        &c,
        &sid("tel01"),
        &event_of(EventKind::Approve, "sup01"),
        t0(),
    )
    .unwrap();
    c = with_evidence(c, EventKind::ConfirmUnlock);
    c = step(
        &c,
        &sid("tel01"),
        &event_of(EventKind::ConfirmUnlock, "sup01"),
        t0(),
    )
    .unwrap();
    assert_eq!(c.state, CaseState::Unlocked);
}

#[test]
fn amended_form_must_be_signed_again() {
    let c = case_in(CaseState::ReturnedForInfo);
    let c = step(
        &c,
        &sid("tel01"),
        &Event::RecordForm(form(LockCause::SelfLocked)),
        t0(),
    )
    .unwrap();
    assert_eq!(c.state, CaseState::FormRecorded);
    assert!(c.form_signed_at.is_none());
    assert_eq!(
        step(&c, &sid("tel01"), &Event::Submit, t0()).unwrap_err(),
        WorkflowError::IllegalTransition {
            state: CaseState::FormRecorded,
            event: EventKind::Submit
        }
    );
}

#[test]
fn authority_freeze_is_refused_and_never_unlocked() {
    let c = case_in(CaseState::IdentityVerified);
    let c = step(
        &c,
        &sid("tel01"),
        &Event::RecordForm(form(LockCause::AuthorityFreeze)),
        t0(),
    )
    .unwrap();
    assert_eq!(c.state, CaseState::RefusedAuthorityFreeze);
    assert!(allowed_events(&c).is_empty());
    for &k in EventKind::ALL {
        assert!(step(&c, &sid("tel01"), &event_of(k, "sup01"), t0()).is_err());
    }
}

#[test]
fn refusals_need_reasons() {
    let c = case_in(CaseState::Submitted);
    let e = Event::Authorize {
        decision: Decision::Reject,
        supervisor: sid("sup01"),
        reason_code: None,
        reason: " ".into(),
    };
    assert!(matches!(
        step(&c, &sid("tel01"), &e, t0()),
        Err(WorkflowError::ReasonRequired { .. })
    ));
    let e = Event::Cancel {
        reason: String::new(),
    };
    assert!(matches!(
        step(&c, &sid("tel01"), &e, t0()),
        Err(WorkflowError::ReasonRequired { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    /// Random event sequences by random actors never leave a case inconsistent: every accepted
    /// step keeps the invariants, refused steps change nothing, terminal states absorb.
    #[test]
    fn random_sequences_keep_invariants(
        seq in proptest::collection::vec((0usize..EventKind::ALL.len(), 0usize..4, 0usize..4, any::<bool>()), 0..40)
    ) {
        let people = ["tel01", "tel02", "sup01", "sup02"];
        let mut c = new_case();
        for (k, actor, sup, cocheck_doc) in seq {
            let kind = EventKind::ALL[k];
            let mut ev = event_of(kind, people[sup]);
            if let Event::VerifyIdentity(r) = &mut ev { *r = identity(cocheck_doc); }
            if let Event::RecordForm(f) = &mut ev {
                if cocheck_doc && sup == 3 { f.lock_cause = Some(LockCause::AuthorityFreeze); }
            }
            // Sometimes the evidence is there, sometimes not: both must keep the invariants.
            if cocheck_doc || actor % 2 == 0 { c = with_evidence(c, kind); }
            let before = c.clone();
            match step(&c, &sid(people[actor]), &ev, t0()) {
                Ok(next) => {
                    prop_assert!(!before.state.is_terminal(), "left terminal state {}", before.state);
                    prop_assert_eq!(next.version, before.version + 1);
                    if let Err(e) = check_invariants(&next) { prop_assert!(false, "{} + {}: {}", before.state, kind, e); }
                    c = next;
                }
                Err(_) => prop_assert_eq!(&c, &before),
            }
        }
    }
}

/// Rule 1: the signed paper is a print of the current form revision (bank copy, delivered);
/// an amended form must be printed again; a failed or pending print does not count.
#[test]
fn the_signed_paper_needs_the_printed_current_revision() {
    let c = case_in(CaseState::FormRecorded);
    assert_eq!(c.form_revision, 1);
    let e = step(&c, &sid("tel01"), &Event::ConfirmSigned, t0()).unwrap_err();
    assert_eq!(e, WorkflowError::NotPrinted { revision: 1 });
    assert_eq!(e.rule(), "not-printed");
    assert!(!allowed_events(&c).contains(&EventKind::ConfirmSigned));
    let blocked = workflow::blocked_events(&c);
    assert!(blocked
        .iter()
        .any(|(k, e)| *k == EventKind::ConfirmSigned && e.rule() == "not-printed"));
    // A failed job, a pending print and the customer copy do not count.
    let mut tries = c.clone();
    for (outcome, copy) in [
        (PrintOutcome::Failed, print::CopyKind::Bank),
        (PrintOutcome::Pending, print::CopyKind::Bank),
        (PrintOutcome::Completed, print::CopyKind::Customer),
    ] {
        let mut p = printed(&tries, print::DocumentKind::Application);
        p.outcome = outcome;
        p.copy = copy;
        tries.prints.push(p);
        assert!(step(&tries, &sid("tel01"), &Event::ConfirmSigned, t0()).is_err());
    }
    // Printed: signed. Amended: revision 2, the print of revision 1 no longer counts.
    let c = with_evidence(c, EventKind::ConfirmSigned);
    let signed = step(&c, &sid("tel01"), &Event::ConfirmSigned, t0()).unwrap();
    let amended = step(
        &signed,
        &sid("tel01"),
        &Event::RecordForm(form(LockCause::SelfLocked)),
        t0(),
    )
    .unwrap();
    assert_eq!(amended.form_revision, 2);
    assert_eq!(
        step(&amended, &sid("tel01"), &Event::ConfirmSigned, t0()).unwrap_err(),
        WorkflowError::NotPrinted { revision: 2 }
    );
    let again = with_evidence(amended, EventKind::ConfirmSigned);
    assert!(step(&again, &sid("tel01"), &Event::ConfirmSigned, t0()).is_ok());
}

/// Rule 4: an unlock is confirmed only with an operator contact with a result, logged since
/// the approval.
#[test]
fn an_unlock_needs_an_operator_contact_since_the_approval() {
    let approved = case_in(CaseState::Approved);
    let unlock = event_of(EventKind::ConfirmUnlock, "sup02");
    assert_eq!(
        step(&approved, &sid("tel01"), &unlock, t0()).unwrap_err(),
        WorkflowError::NoOperatorContact
    );
    assert!(!allowed_events(&approved).contains(&EventKind::ConfirmUnlock));
    // A contact from before the approval (a status query) is not the unlock's evidence.
    let mut early = approved.clone();
    early.contacts.push(OperatorContact {
        channel: ContactChannel::Phone,
        at: t0() - chrono::Duration::minutes(5),
        ticket: "OP-0".into(),
        result: "status queried".into(),
        by: sid("tel01"),
    });
    assert_eq!(
        step(&early, &sid("tel01"), &unlock, t0()).unwrap_err(),
        WorkflowError::NoOperatorContact
    );
    let contacted = step(
        &approved,
        &sid("tel01"),
        &event_of(EventKind::LogContact, "sup02"),
        t0(),
    )
    .unwrap();
    assert_eq!(
        step(&contacted, &sid("tel01"), &unlock, t0())
            .unwrap()
            .state,
        CaseState::Unlocked
    );
}

/// Rule 1 (close): the receipt printed, or a recorded reason why not.
#[test]
fn closing_needs_the_receipt_or_a_reason() {
    let unlocked = case_in(CaseState::Unlocked);
    let close = |w: Option<&str>| Event::Close {
        receipt_waiver: w.map(str::to_string),
    };
    for w in [None, Some("  ")] {
        let e = step(&unlocked, &sid("tel01"), &close(w), t0()).unwrap_err();
        assert_eq!(e, WorkflowError::ReceiptNotPrinted);
        let ce = CoreError::from(e);
        assert_eq!(ce.fields[0].field, "receipt_waiver");
        assert_eq!(ce.fields[0].rule, "receipt-not-printed");
    }
    let s = workflow::step(
        &unlocked,
        &sid("tel01"),
        &close(Some("customer declined the receipt")),
        t0(),
    )
    .unwrap();
    assert_eq!(s.case.state, CaseState::Closed);
    assert_eq!(
        s.case.receipt_waiver.as_deref(),
        Some("customer declined the receipt")
    );
    assert_eq!(
        s.audit.reason,
        "receipt-waived: customer declined the receipt"
    );
    check_invariants(&s.case).unwrap();
    let printed = with_evidence(unlocked, EventKind::Close);
    let c = step(&printed, &sid("tel01"), &close(None), t0()).unwrap();
    assert_eq!((c.state, c.receipt_waiver), (CaseState::Closed, None));
}

/// Rule 5: a failed online identity check of the customer or of the agent stops the case
/// with the result and the reference.
#[test]
fn a_failed_online_check_stops_the_case() {
    for result in [OnlineCheckResult::Mismatch, OnlineCheckResult::NotFound] {
        let mut id = identity(false);
        id.online_check = Some(OnlineCheck {
            result,
            reference: "LWHC-77".into(),
        });
        let s =
            workflow::step(&new_case(), &sid("tel01"), &Event::VerifyIdentity(id), t0()).unwrap();
        assert_eq!(s.case.state, CaseState::RefusedIdentity);
        assert!(s.case.last_reason.contains(result.as_str()));
        assert!(s.case.last_reason.contains("LWHC-77"));
        assert!(allowed_events(&s.case).is_empty());
        // The agent's check, at the form.
        let verified = case_in(CaseState::IdentityVerified);
        let mut f = form(LockCause::WrongPassword);
        f.agent = Some(Agent {
            name: "测试乙".into(),
            online_check: Some(OnlineCheck {
                result,
                reference: "LWHC-78".into(),
            }),
            ..Default::default()
        });
        let c = step(&verified, &sid("tel01"), &Event::RecordForm(f), t0()).unwrap();
        assert_eq!(c.state, CaseState::RefusedIdentity);
        assert!(c.last_reason.starts_with("agent:") && c.last_reason.contains("LWHC-78"));
    }
}

/// Rule 7: an anti-fraud restriction is refused like an authority freeze, with its own cause.
#[test]
fn an_anti_fraud_restriction_is_refused_with_its_own_cause() {
    let c = case_in(CaseState::IdentityVerified);
    let c = step(
        &c,
        &sid("tel01"),
        &Event::RecordForm(form(LockCause::AntiFraudRestriction)),
        t0(),
    )
    .unwrap();
    assert_eq!(c.state, CaseState::RefusedAuthorityFreeze);
    assert_eq!(c.lock_cause, Some(LockCause::AntiFraudRestriction));
    assert_eq!(c.last_reason, "anti-fraud-restriction");
    // Submitted, then recognised: approve and unlock are refused naming the cause.
    let mut s = case_in(CaseState::Submitted);
    s.lock_cause = Some(LockCause::AntiFraudRestriction);
    let e = step(
        &s,
        &sid("tel01"),
        &event_of(EventKind::Approve, "sup02"),
        t0(),
    )
    .unwrap_err();
    assert_eq!(e.rule(), "anti-fraud-restriction");
    assert!(e.to_string().contains("电信网络诈骗"));
    assert_eq!(CoreError::from(e).code, ErrorCode::AuthorityFreeze);
    let refused = step(
        &s,
        &sid("tel01"),
        &event_of(EventKind::RefuseAuthorityFreeze, "sup02"),
        t0(),
    )
    .unwrap();
    assert_eq!(refused.lock_cause, Some(LockCause::AntiFraudRestriction));
}
