use super::*;

pub fn walk_in_to_closed_with_history_and_masking<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, sup01, _) = setup(&svc);
    let c = to_submitted(&svc, &tel01);
    svc.authorize(&tel01, c, &sup01, Decision::Approve, None, "", None)
        .unwrap();
    svc.log_contact(
        &tel01,
        c,
        &ContactInput {
            channel: ContactChannel::Phone,
            ticket: "OP-1".into(),
            result: "unlocked".into(),
        },
        None,
    )
    .unwrap();
    svc.confirm_unlock(
        &tel01,
        c,
        &sup01,
        &UnlockInput {
            operator_reference: "OP-1".into(),
            notified_via: NotificationChannel::Sms,
        },
        None,
    )
    .unwrap();
    print_delivered(&svc, &tel01, c, print::DocumentKind::Receipt);
    let v = svc.close_case(&tel01, c, None, None).unwrap();
    assert_eq!(v.case.state, CaseState::Closed);
    assert_eq!(v.case.case_number, "T1-20261129-0001");
    let actions: Vec<&str> = v.history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "open-case",
            "verify-identity",
            "record-form",
            "print",
            "print-delivery",
            "confirm-signed",
            "submit",
            "approve",
            "log-contact",
            "confirm-unlock",
            "print",
            "print-delivery",
            "close"
        ]
    );
    // Masked everywhere in the view.
    let json = serde_json::to_string(&v).unwrap();
    for full in [ID, "13123456789", "6200000000000005", "0099123456789012"] {
        assert!(!json.contains(full), "{full} leaked into the case view");
    }
    assert_eq!(v.case.form.as_ref().unwrap().phone, "131****6789");
    // The staff it mentions (teller, authorizing supervisor), named from the store's accounts.
    assert_eq!(
        v.staff.iter().collect::<Vec<_>>(),
        [
            (&"sup01".to_string(), &"职员sup01".to_string()),
            (&"tel01".to_string(), &"职员tel01".to_string())
        ]
    );
    // Reopen the file: everything is there and the chain verifies.
    drop(svc);
    let svc = svc_again(fix, clock());
    let tel01 = svc.authenticate("tel01", PW, "t").unwrap();
    assert_eq!(
        svc.case_view(&tel01, c).unwrap().case.state,
        CaseState::Closed
    );
    let ver = svc.verify_audit(&reader(&svc)).unwrap();
    assert!(ver.ok, "{ver:?}");
    // The reveal is audited and returns the full number.
    assert_eq!(
        svc.reveal(
            &tel01,
            c,
            RevealField::IdNumber,
            "customer asked to confirm"
        )
        .unwrap(),
        ID
    );
    assert_eq!(
        svc.case_view(&tel01, c)
            .unwrap()
            .history
            .last()
            .unwrap()
            .action,
        "reveal"
    );
}

pub fn maker_cannot_authorize_on_any_path<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, sup01, _) = setup(&svc);
    // sup01 makes the case (a supervisor may do teller steps, and then is a maker).
    let sup_actor = svc.authenticate("sup01", PW, "t").unwrap();
    let c = to_submitted(&svc, &sup_actor);
    for d in [Decision::Approve, Decision::ReturnForInfo, Decision::Reject] {
        let e = svc
            .authorize(&tel01, c, &sup01, d, Some(ReasonCode::Other), "x", None)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::FourEyes, "{d}");
        // canonical id: SUP01 is the same person
        let upper = Credentials {
            staff_id: "SUP01".into(),
            password: PW.into(),
        };
        assert_eq!(
            svc.authorize(&tel01, c, &upper, d, Some(ReasonCode::Other), "x", None)
                .unwrap_err()
                .code,
            ErrorCode::FourEyes
        );
    }
    // The refusal is on the record.
    let h = svc.case_view(&tel01, c).unwrap().history;
    assert!(h
        .iter()
        .any(|e| e.outcome == unlockdesk_core::ports::Outcome::Refused));
    // A teller cannot authorize at all.
    let tel_creds = Credentials {
        staff_id: "tel02".into(),
        password: PW.into(),
    };
    assert_eq!(
        svc.authorize(&tel01, c, &tel_creds, Decision::Approve, None, "", None)
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    // Wrong supervisor password.
    let bad = Credentials {
        staff_id: "sup02".into(),
        password: "nope".into(),
    };
    assert_eq!(
        svc.authorize(&tel01, c, &bad, Decision::Approve, None, "", None)
            .unwrap_err()
            .code,
        ErrorCode::AuthFailed
    );
    // sup02 may approve; then sup01 (maker) cannot authorize the unlock.
    let sup02 = Credentials {
        staff_id: "sup02".into(),
        password: PW.into(),
    };
    svc.authorize(&tel01, c, &sup02, Decision::Approve, None, "", None)
        .unwrap();
    let e = svc
        .confirm_unlock(
            &tel01,
            c,
            &sup01,
            &UnlockInput {
                operator_reference: "R".into(),
                notified_via: NotificationChannel::InPerson,
            },
            None,
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::FourEyes);
}

pub fn idempotency_key_makes_one_transition<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, _, _) = setup(&svc);
    let input = OpenCaseInput {
        customer_name: "测试乙".into(),
        ..Default::default()
    };
    let a = svc.open_case(&tel01, &input, Some("k-open-1")).unwrap();
    let b = svc.open_case(&tel01, &input, Some("k-open-1")).unwrap();
    assert_eq!(a.case.id, b.case.id);
    let c = a.case.id;
    let idn = IdentityInput {
        kind: "prc-id".into(),
        online_check: Some(OnlineCheck {
            result: OnlineCheckResult::Match,
            reference: "LWHC-T1".into(),
        }),
        number: ID.into(),
        name_on_document: "测试乙".into(),
        valid_until: "long-term".into(),
        ..Default::default()
    };
    svc.verify_identity(&tel01, c, &idn, Some("k-id")).unwrap();
    let again = svc.verify_identity(&tel01, c, &idn, Some("k-id")).unwrap();
    assert_eq!(again.case.version, 2);
    assert_eq!(
        again
            .history
            .iter()
            .filter(|e| e.action == "verify-identity")
            .count(),
        1
    );
}

/// The same idempotency key sent at the same moment from two terminals (two stores on the one
/// database, two threads) — a retry racing its lost original: one transition, both answers
/// are the case after it, one audit event.
pub fn one_key_from_two_terminals_at_once_is_one_transition<F: Fixture>(fix: &F) {
    let first = svc(fix, clock());
    let (tel01, _, sup01, _) = setup(&first);
    let terminals = [
        std::sync::Arc::new(svc_again(fix, clock())),
        std::sync::Arc::new(svc_again(fix, clock())),
    ];
    for round in 0..20 {
        let c = to_submitted(&first, &tel01);
        let key = format!("k-approve-{round}");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let handles: Vec<_> = terminals
            .iter()
            .map(|t| {
                let (t, barrier, tel01, sup01, key) = (
                    t.clone(),
                    barrier.clone(),
                    tel01.clone(),
                    sup01.clone(),
                    key.clone(),
                );
                std::thread::spawn(move || {
                    barrier.wait();
                    t.authorize(&tel01, c, &sup01, Decision::Approve, None, "", Some(&key))
                })
            })
            .collect();
        let answers: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        for a in &answers {
            let v = a.as_ref().unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert_eq!(v.case.state, CaseState::Approved, "round {round}");
        }
        let v = first.case_view(&tel01, c).unwrap();
        let approvals = v.history.iter().filter(|e| e.action == "approve").count();
        assert_eq!(approvals, 1, "round {round}");
    }
}

/// A key is one attempt of one request: sent again with another step, another case or as an
/// open-case, it is refused (`conflict`) and nothing is applied — never a silent replay.
pub fn idempotency_key_reused_for_another_request_is_refused<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, _, sup02) = setup(&svc);
    let a = to_submitted(&svc, &tel01);
    let b = walk_in(&svc, &tel01);
    svc.cancel_case(&tel01, b, "customer left", Some("k-1"))
        .unwrap();
    // The same key on another case.
    let e = svc
        .authorize(&tel01, a, &sup02, Decision::Approve, None, "", Some("k-1"))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{e}");
    assert!(e.message.contains("cancel-case"), "{}", e.message);
    // The same key on the same case but another step.
    let c = walk_in(&svc, &tel01);
    svc.cancel_case(&tel01, c, "customer left", Some("k-2"))
        .unwrap();
    let e = svc.close_case(&tel01, c, None, Some("k-2")).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    // An open-case with a step's key.
    let input = OpenCaseInput {
        customer_name: "测试丙".into(),
        ..Default::default()
    };
    let e = svc.open_case(&tel01, &input, Some("k-2")).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    // Nothing was applied: the submitted case is still waiting for its decision.
    let v = svc.case_view(&tel01, a).unwrap();
    assert_eq!(v.case.state, CaseState::Submitted);
    assert!(v.history.iter().all(|h| h.action != "approve"));
    // A genuine retry still replays.
    let first = svc
        .authorize(&tel01, a, &sup02, Decision::Approve, None, "", Some("k-3"))
        .unwrap();
    let retry = svc
        .authorize(&tel01, a, &sup02, Decision::Approve, None, "", Some("k-3"))
        .unwrap();
    assert_eq!(first.case.version, retry.case.version);
    // The same key with another decision is not a retry: refused, nothing replayed.
    let e = svc
        .authorize(
            &tel01,
            a,
            &sup02,
            Decision::Reject,
            Some(ReasonCode::SuspectedFraud),
            "",
            Some("k-3"),
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(e.message.contains("approve"), "{}", e.message);
}

/// `update_case` sets only the indexed columns that changed; the searches on them (state,
/// ID and phone last 4, name) must still follow every change the steps make.
pub fn case_search_columns_follow_each_step<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, _, _) = setup(&svc);
    let c = walk_in(&svc, &tel01); // phone 13123456789, no ID yet
    let found = |text: &str| -> Vec<CaseId> {
        svc.find_cases(&tel01, text)
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect()
    };
    assert_eq!(found("6789"), vec![c]);
    assert!(found("002X").is_empty());
    let idn = id_card();
    svc.verify_identity(&tel01, c, &idn, None).unwrap();
    assert_eq!(found("002x"), vec![c], "ID last 4 after the identity check");
    let mut f = form();
    f.phone = "13900001234".into();
    svc.record_form(&tel01, c, &f, None).unwrap();
    assert_eq!(found("1234"), vec![c], "phone last 4 after the form");
    let by_state = |state| {
        svc.list_cases(
            &tel01,
            &CaseQuery {
                states: vec![state],
                ..Default::default()
            },
        )
        .unwrap()
        .cases
        .len()
    };
    assert_eq!(by_state(CaseState::FormRecorded), 1);
    print_and_sign(&svc, &tel01, c);
    assert_eq!(by_state(CaseState::FormRecorded), 0);
    assert_eq!(by_state(CaseState::FormSigned), 1);
    assert_eq!(found("测试"), vec![c]);
}

/// Amending a recorded form (after a restart, or returned for information): the window holds
/// only masked numbers, so a blank or masked phone, wallet id or card keeps the recorded value;
/// a number typed in full replaces it and is checked.
pub fn amending_keeps_recorded_numbers_left_blank_or_masked<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, _, _) = setup(&svc);
    let c = identified_walk_in(&svc, &tel01);
    let v = svc.record_form(&tel01, c, &form(), None).unwrap();
    // What the window has after a restart: the masked form.
    let mut amended = v.case.form.clone().unwrap();
    assert!(amended.phone.contains('*') && amended.bank_card.contains('*'));
    amended.wallet_id = String::new();
    amended.reason = "forgot password; second try".into();
    svc.record_form(&tel01, c, &amended, None).unwrap();
    let stored = fix.again().read(|tx| tx.case(c)).unwrap().unwrap();
    let f = stored.form.unwrap();
    assert_eq!(f.phone, "13123456789");
    assert_eq!(f.wallet_id, "0099123456789012");
    assert_eq!(f.bank_card, "6200000000000005");
    assert_eq!(f.id_number, ID);
    assert_eq!(f.reason, "forgot password; second try");
    // A new number typed in full replaces the recorded one, and is checked.
    amended.phone = "139 0000 1234".into();
    svc.record_form(&tel01, c, &amended, None).unwrap();
    let stored = fix.again().read(|tx| tx.case(c)).unwrap().unwrap();
    assert_eq!(stored.form.unwrap().phone, "13900001234");
    amended.phone = "12345".into();
    let e = svc.record_form(&tel01, c, &amended, None).unwrap_err();
    assert!(e.fields.iter().any(|f| f.field == "phone"), "{e:?}");
    // A mask that is not the recorded one is a mistyped number: refused, not replaced.
    amended.phone = "139****9999".into();
    let e = svc.record_form(&tel01, c, &amended, None).unwrap_err();
    assert!(e.fields.iter().any(|f| f.field == "phone"), "{e:?}");
    // The optional card: a blank clears it (only its mask sent back keeps it).
    amended.phone = String::new();
    amended.bank_card = String::new();
    svc.record_form(&tel01, c, &amended, None).unwrap();
    let stored = fix.again().read(|tx| tx.case(c)).unwrap().unwrap();
    let f = stored.form.unwrap();
    assert_eq!(f.bank_card, "");
    assert_eq!(f.phone, "13900001234");
}

/// The form must be the person verified at the identity step: another name, another
/// document number or the other sex than the number encodes is refused, and nothing changes.
pub fn form_must_be_the_verified_person<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, _, _) = setup(&svc);
    let c = identified_walk_in(&svc, &tel01); // 测试甲, 11010519491231002X (a woman's)
    let rules = |f: &ApplicationForm| -> Vec<(String, String)> {
        svc.record_form(&tel01, c, f, None)
            .unwrap_err()
            .fields
            .into_iter()
            .map(|e| (e.field, e.rule))
            .collect()
    };
    let mut other_name = form();
    other_name.customer_name = "完全不同".into();
    assert_eq!(
        rules(&other_name),
        [("customer_name".to_string(), "identity-mismatch".to_string())]
    );
    let mut other_id = form();
    // A valid number, but not the one verified (check character computed: 110105194912310046).
    other_id.id_number = "110105194912310046".into();
    assert_eq!(
        rules(&other_id),
        [("id_number".to_string(), "identity-mismatch".to_string())]
    );
    let mut other_doc = form();
    other_doc.id_type = "residence-permit".parse().unwrap();
    other_doc.id_number = "830000199001011234".into();
    assert!(rules(&other_doc)
        .iter()
        .any(|(f, r)| f == "id_type" && r == "identity-mismatch"));
    let mut wrong_sex = form();
    wrong_sex.sex = Some(Sex::Male);
    assert_eq!(
        rules(&wrong_sex),
        [("sex".to_string(), "differs-from-document".to_string())]
    );
    let v = svc.case_view(&tel01, c).unwrap();
    assert_eq!(v.case.state, CaseState::IdentityVerified);
    assert_eq!(v.case.customer_name, "测试甲");
    // The verified person's form is accepted.
    svc.record_form(&tel01, c, &form(), None).unwrap();
}

/// An agent's recorded numbers are kept only for the same agent: a different guardian left
/// with blank numbers is refused, never given the previous guardian's numbers.
pub fn amending_keeps_agent_numbers_only_for_the_same_agent<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, _, _) = setup(&svc);
    let c = identified_walk_in(&svc, &tel01);
    let mut f = form();
    f.agent = Some(Agent {
        name: "测试乙".into(),
        id_type: "prc-id".parse().unwrap(),
        id_number: "11010519491231002X".into(),
        phone: "13700001111".into(),
        relationship: "配偶".into(),
        online_check: Some(OnlineCheck {
            result: OnlineCheckResult::Match,
            reference: "LWHC-A1".into(),
        }),
    });
    allow_agents(&svc);
    let v = svc.record_form(&tel01, c, &f, None).unwrap();
    let mut amended = v.case.form.clone().unwrap();
    let agent = amended.agent.as_mut().unwrap();
    agent.phone = String::new();
    svc.record_form(&tel01, c, &amended, None).unwrap();
    let stored = fix.again().read(|tx| tx.case(c)).unwrap().unwrap();
    let a = stored.form.unwrap().agent.unwrap();
    assert_eq!(a.phone, "13700001111");
    assert_eq!(a.id_number, "11010519491231002X");
    // Another person as agent, numbers left blank: refused on both fields.
    let agent = amended.agent.as_mut().unwrap();
    agent.name = "测试丙".into();
    agent.phone = String::new();
    agent.id_number = String::new();
    let e = svc.record_form(&tel01, c, &amended, None).unwrap_err();
    let fields: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
    assert!(
        fields.contains(&"agent.phone") && fields.contains(&"agent.id_number"),
        "{fields:?}"
    );
}

pub fn two_approvals_at_once_exactly_one_wins<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, sup01, sup02) = setup(&svc);
    let c = to_submitted(&svc, &tel01);
    drop(svc);
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let handles: Vec<_> = [sup01, sup02]
        .into_iter()
        .map(|creds| {
            // Separate connections, as two terminals would have.
            let svc = svc_again(fix, clock());
            let barrier = barrier.clone();
            let tel01 = tel01.clone();
            std::thread::spawn(move || {
                barrier.wait();
                svc.authorize(&tel01, c, &creds, Decision::Approve, None, "", None)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    let err = results.into_iter().find_map(|r| r.err()).unwrap();
    assert!(
        matches!(err.code, ErrorCode::Conflict | ErrorCode::IllegalTransition),
        "{err:?}"
    );
}

/// The supervisor whose decision came second is told who decided, and the refused attempt is
/// in the audit trail under their name.
pub fn a_lost_decision_is_recorded_naming_its_supervisor<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, sup01, sup02) = setup(&svc);
    let c = to_submitted(&svc, &tel01);
    svc.authorize(&tel01, c, &sup01, Decision::Approve, None, "", None)
        .unwrap();
    let e = svc
        .authorize(
            &tel01,
            c,
            &sup02,
            Decision::Reject,
            Some(ReasonCode::Other),
            "too late",
            None,
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(
        e.message.contains("already decided") && e.message.contains("sup01"),
        "{e:?}"
    );
    let refused: Vec<_> = fix
        .again()
        .read(|tx| tx.audit_events(1, 100_000))
        .unwrap()
        .into_iter()
        .filter(|ev| ev.action == "refused-step" && ev.case_id == Some(c))
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].staff_id, "sup02");
    assert_eq!(refused[0].outcome, unlockdesk_core::ports::Outcome::Refused);
    let view = svc.case_view(&tel01, c).unwrap();
    assert_eq!(view.case.state, CaseState::Approved);
}

/// Every step appends one chained event; the chain verifies after each, on another
/// connection too, and the case's history lists the steps in order.
pub fn audit_chain_verifies_after_every_step<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, sup01, _) = setup(&svc);
    let auditor_chain = || fix.again().verify_audit().unwrap();
    let c = identified_walk_in(&svc, &tel01);
    assert!(auditor_chain().ok);
    svc.record_form(&tel01, c, &form(), None).unwrap();
    print_and_sign(&svc, &tel01, c);
    svc.submit(&tel01, c, None).unwrap();
    svc.authorize(&tel01, c, &sup01, Decision::Approve, None, "", None)
        .unwrap();
    let v = auditor_chain();
    assert!(v.ok, "{v:?}");
    let history: Vec<String> = svc
        .case_view(&tel01, c)
        .unwrap()
        .history
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        history,
        [
            "open-case",
            "verify-identity",
            "record-form",
            "print",
            "print-delivery",
            "confirm-signed",
            "submit",
            "approve"
        ]
    );
    let all = fix.again().read(|tx| tx.audit_events(1, 100_000)).unwrap();
    assert_eq!(all.len() as i64, v.events);
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1);
        if i > 0 {
            assert_eq!(e.prev_hash, all[i - 1].hash);
        }
    }
}

/// A read snapshot sees what was committed and nothing of a step that failed half-way.
pub fn read_snapshot_sees_committed_steps_only<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, _, _) = setup(&svc);
    let c = identified_walk_in(&svc, &tel01);
    let store = fix.again();
    let before = store.read(|tx| tx.case(c)).unwrap().unwrap();
    // A transaction that writes and then fails leaves nothing behind.
    let e = store
        .transact(|tx| {
            let mut next = before.clone();
            next.customer_name = "改写".into();
            tx.update_case(&next, before.version)?;
            Err::<(), _>(CoreError::storage("fail after the write"))
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Storage);
    let after = store.read(|tx| tx.case(c)).unwrap().unwrap();
    assert_eq!(after, before);
    // A stale version is refused.
    let mut stale = before.clone();
    stale.version -= 1;
    let e = store
        .transact(|tx| tx.update_case(&stale, stale.version))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
}

/// A printed document is stored by the store with its SHA-256 and read back intact; a second
/// print of the same copy is a reprint.
pub fn printed_documents_are_stored_with_their_hash<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, _, _) = setup(&svc);
    let c = identified_walk_in(&svc, &tel01);
    let store = fix.again();
    let rec = unlockdesk_core::ports::DocumentRecord {
        id: "doc-1".into(),
        case_id: c,
        kind: unlockdesk_core::print::DocumentKind::Application,
        copy: unlockdesk_core::print::CopyKind::Bank,
        path: String::new(),
        sha256: String::new(),
        bytes: 0,
        at: unlockdesk_core::ports::Clock::now(&*clock()),
        by: StaffId::parse("tel01").unwrap(),
    };
    let bytes = b"%PDF-1.7 synthetic".to_vec();
    let saved = store.transact(|tx| tx.save_document(&rec, &bytes)).unwrap();
    assert_eq!(saved.bytes, bytes.len() as i64);
    assert_eq!(
        saved.sha256,
        sha256_hex(&bytes),
        "the recorded hash is the bytes' SHA-256"
    );
    let listed = store.read(|tx| tx.documents(c)).unwrap();
    assert_eq!(listed, vec![saved.clone()]);
    let back = store.read(|tx| tx.document_bytes(&saved)).unwrap();
    assert_eq!(back, bytes);
}

pub fn lockout_after_failed_sign_ins_and_admin_unlock<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    setup(&svc);
    for _ in 0..5 {
        assert_eq!(
            svc.sign_in("tel01", "wrong", "t").unwrap_err().code,
            ErrorCode::AuthFailed
        );
    }
    assert_eq!(
        svc.sign_in("tel01", PW, "t").unwrap_err().code,
        ErrorCode::AccountLocked
    );
    let admin = svc.authenticate("admin", PW, "t").unwrap();
    svc.unlock_staff(&admin, "tel01").unwrap();
    assert!(svc.sign_in("tel01", PW, "t").is_ok());
}

/// A password hashed with older parameters (the `argon2` crate's default, m=19456 t=2, as
/// earlier versions stored it) still signs in; a wrong password leaves it as it is, and so
/// does a supervisor's authorization (it only checks, in the middle of a teller's step); the
/// next sign-in makes it again with today's (`passwords::params`), once, and the sign-in's
/// audit event says `password_rehashed`. The new hash verifies the same password only.
pub fn a_password_hashed_with_older_parameters_is_made_again_at_the_next_sign_in<F: Fixture>(
    fix: &F,
) {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let svc = svc(fix, clock());
    let (tel01, _, sup01, _) = setup(&svc);
    let store = fix.again();
    let older = argon2::Argon2::default()
        .hash_password(PW.as_bytes(), &SaltString::encode_b64(&[5; 16]).unwrap())
        .unwrap()
        .to_string();
    assert!(older.contains("$m=19456,t=2,p=1$"), "{older}");
    let with_older = |id: &str| {
        let id = StaffId::parse(id).unwrap();
        let mut s = store.read(|r| r.staff(&id)).unwrap().unwrap();
        s.password_hash = older.clone();
        store.transact(|w| w.update_staff(&s)).unwrap();
    };
    with_older("sup01");
    let c = to_submitted(&svc, &tel01);
    svc.authorize(&tel01, c, &sup01, Decision::Approve, None, "", None)
        .unwrap();
    let sup01_id = StaffId::parse("sup01").unwrap();
    let sup01_now = store.read(|r| r.staff(&sup01_id)).unwrap().unwrap();
    assert_eq!(
        sup01_now.password_hash, older,
        "an authorization only checks"
    );

    with_older("tel02");
    let tel02 = StaffId::parse("tel02").unwrap();
    let stored = || store.read(|r| r.staff(&tel02)).unwrap().unwrap();

    assert_eq!(
        svc.sign_in("tel02", "Counter#2027", "t").unwrap_err().code,
        ErrorCode::AuthFailed
    );
    assert_eq!(
        stored().password_hash,
        older,
        "a wrong password changes nothing"
    );
    let before = store.read(|r| r.audit_head()).unwrap();
    svc.sign_in("tel02", PW, "t").unwrap();
    let now = stored();
    assert!(
        now.password_hash
            .starts_with("$argon2id$v=19$m=7168,t=5,p=1$"),
        "{}",
        now.password_hash
    );
    assert_eq!(now.failed_logins, 0);
    assert!(!passwords::needs_rehash(&now.password_hash));
    assert!(passwords::verify(PW, &now.password_hash));
    assert!(!passwords::verify("Counter#2027", &now.password_hash));
    let events = store.read(|r| r.audit_events(before + 1, 100)).unwrap();
    let sign_ins: Vec<_> = events.iter().filter(|e| e.action == "sign-in").collect();
    assert_eq!(sign_ins.len(), 1, "{events:?}");
    assert_eq!(sign_ins[0].detail, r#"{"password_rehashed":true}"#);

    // Made once: the next sign-in leaves the new hash and says nothing of it.
    svc.sign_in("tel02", PW, "t").unwrap();
    assert_eq!(stored().password_hash, now.password_hash);
    let last = store.read(|r| r.audit_events(before + 1, 100)).unwrap();
    assert_eq!(last.last().map(|e| e.detail.as_str()), Some("{}"));
}

pub fn session_locks_after_idle_minutes<F: Fixture>(fix: &F) {
    let clk = clock();
    let svc = svc(fix, clk.clone());
    setup(&svc);
    let mut s = svc.sign_in("tel01", PW, "t").unwrap();
    clk.advance(chrono::Duration::minutes(4));
    svc.session_actor(&mut s).unwrap();
    clk.advance(chrono::Duration::minutes(5));
    assert_eq!(
        svc.session_actor(&mut s).unwrap_err().code,
        ErrorCode::SessionLocked
    );
    assert!(s.is_locked());
    svc.unlock_session(&mut s, PW).unwrap();
    svc.session_actor(&mut s).unwrap();
}

pub fn authority_freeze_refused_at_check_in<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, _, _) = setup(&svc);
    let v = svc
        .open_case(
            &tel01,
            &OpenCaseInput {
                customer_name: "测试丙".into(),
                lock_cause: Some(LockCause::AuthorityFreeze),
                ..Default::default()
            },
            None,
        )
        .unwrap();
    assert_eq!(v.case.state, CaseState::RefusedAuthorityFreeze);
    assert!(v.allowed.is_empty());
    assert!(v.freeze_route.unwrap().contains("release document"));
}

pub fn bad_form_reports_every_field_and_changes_nothing<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, _, _) = setup(&svc);
    let c = walk_in(&svc, &tel01);
    let idn = IdentityInput {
        kind: "prc-id".into(),
        online_check: Some(OnlineCheck {
            result: OnlineCheckResult::Match,
            reference: "LWHC-T1".into(),
        }),
        number: "110105194912310021".into(),
        name_on_document: "测试甲".into(),
        valid_until: "long-term".into(),
        ..Default::default()
    };
    let e = svc.verify_identity(&tel01, c, &idn, None).unwrap_err();
    assert!(
        e.fields
            .iter()
            .any(|f| f.field == "number" && f.rule == "check-digit"),
        "{e:?}"
    );
    let idn = IdentityInput {
        kind: "prc-id".into(),
        online_check: Some(OnlineCheck {
            result: OnlineCheckResult::Match,
            reference: "LWHC-T1".into(),
        }),
        number: "１１０１０５１９４９１２３１００２ｘ".into(),
        name_on_document: "测试甲".into(),
        valid_until: "long-term".into(),
        ..Default::default()
    };
    svc.verify_identity(&tel01, c, &idn, None).unwrap();
    let mut f = form();
    f.phone = "12345".into();
    f.bank_card = "6200000000000006".into();
    f.declaration_true = false;
    let e = svc.record_form(&tel01, c, &f, None).unwrap_err();
    let fields: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
    for want in ["phone", "bank_card", "declaration_true"] {
        assert!(fields.contains(&want), "{want} missing in {fields:?}");
    }
    assert_eq!(
        svc.case_view(&tel01, c).unwrap().case.state,
        CaseState::IdentityVerified
    );
}

/// A synthetic, unexpired passport MRZ (ICAO 9303 TD3; check digits computed).
pub(crate) const PASSPORT_L1: &str = "P<CHNZHANG<<SAN<<<<<<<<<<<<<<<<<<<<<<<<<<<<<";
pub(crate) const PASSPORT_L2: &str = "E123456782CHN9005226M3404252<<<<<<<<<<<<<<08";

pub fn branch_id_policy_decides_which_evidence_suffices<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, _, _) = setup(&svc);
    let admin = svc.authenticate("admin", PW, "test").unwrap();
    let passport = IdentityInput {
        kind: "passport-mrz".into(),
        number: PASSPORT_L1.into(),
        mrz_line2: PASSPORT_L2.into(),
        name_on_document: "Zhang San".into(),
        ..Default::default()
    };

    // The default table accepts a valid passport (with the supervisor's co-check).
    let c = walk_in(&svc, &tel01);
    let v = svc.verify_identity(&tel01, c, &passport, None).unwrap();
    assert!(v.case.identity.unwrap().needs_cocheck);

    // A branch that disables the passport row refuses it with a field error on `kind`.
    let mut b = svc.branch().unwrap();
    b.id_policy.rules.retain(|r| r.id != "passport");
    svc.update_branch(&admin, &b).unwrap();
    assert!(svc
        .branch()
        .unwrap()
        .id_policy
        .rules
        .iter()
        .all(|r| r.id != "passport"));
    let c = walk_in(&svc, &tel01);
    let e = svc.verify_identity(&tel01, c, &passport, None).unwrap_err();
    assert_eq!(e.code, ErrorCode::Invalid);
    assert_eq!(
        e.fields
            .iter()
            .map(|f| (f.field.as_str(), f.rule.as_str()))
            .collect::<Vec<_>>(),
        [("kind", "insufficient")]
    );
    // The resident ID card still works.
    let idn = id_card();
    svc.verify_identity(&tel01, c, &idn, None).unwrap();

    // A table that cannot work is refused: supporting evidence only, or no row at all.
    let mut bad = svc.branch().unwrap();
    bad.id_policy
        .rules
        .push(unlockdesk_core::identity::policy::PolicyRule {
            id: "licence".into(),
            all_of: vec![unlockdesk_core::identity::policy::EvidenceKind::DrivingLicence],
            cocheck: false,
        });
    let e = svc.update_branch(&admin, &bad).unwrap_err();
    assert_eq!(e.fields[0].field, "id_policy");
    assert_eq!(e.fields[0].rule, "invalid");
    bad.id_policy.rules.clear();
    let e = svc.update_branch(&admin, &bad).unwrap_err();
    assert_eq!(e.fields[0].field, "id_policy");
}

/// The ports `store copy` uses: the whole store listed from one snapshot, and written verbatim
/// into an empty store (the audit chain with its seq and hashes verifies there; an event out of
/// order, a document whose bytes do not match its hash are refused; case number sequences go on
/// where the source stopped).
pub fn whole_store_lists_and_verbatim_writes<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, _, _) = setup(&svc);
    let c = identified_walk_in(&svc, &tel01);
    let src = fix.again();
    let rec = unlockdesk_core::ports::DocumentRecord {
        id: "doc-1".into(),
        case_id: c,
        kind: unlockdesk_core::print::DocumentKind::Application,
        copy: unlockdesk_core::print::CopyKind::Bank,
        path: String::new(),
        sha256: String::new(),
        bytes: 0,
        at: unlockdesk_core::ports::Clock::now(&*clock()),
        by: StaffId::parse("tel01").unwrap(),
    };
    let bytes = b"%PDF-1.7 synthetic".to_vec();
    src.transact(|tx| {
        tx.save_document(&rec, &bytes)?;
        tx.remember_idempotent("key-1", c, "verify-identity", rec.at)
    })
    .unwrap();
    let (cases, docs, keys, seqs, events, staff, branch) = src
        .read(|r| {
            Ok((
                r.all_cases()?,
                r.all_documents()?,
                r.all_idempotency()?,
                r.case_seqs()?,
                r.audit_events(1, 100_000)?,
                r.list_staff()?,
                r.branch()?,
            ))
        })
        .unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].id, c);
    assert_eq!(docs.len(), 1);
    assert!(keys.iter().any(|k| k.key == "key-1" && k.call.case_id == c));
    assert_eq!(seqs.len(), 1);
    assert!(seqs[0].1 >= 1);
    assert!(events.len() > 3);

    let dst = fix.fresh();
    dst.transact(|w| {
        w.save_branch(branch.as_ref().unwrap())?;
        for s in &staff {
            w.insert_staff(s)?;
        }
        for c in &cases {
            w.insert_case(c)?;
        }
        let out_of_order = w.insert_audit_event(&events[1]).unwrap_err();
        assert_eq!(out_of_order.code, ErrorCode::Conflict, "{out_of_order:?}");
        let mut altered = docs[0].clone();
        altered.sha256 = "0".repeat(64);
        assert_eq!(
            w.insert_document(&altered, &bytes).unwrap_err().code,
            ErrorCode::Storage
        );
        w.insert_document(&docs[0], &bytes)?;
        for k in &keys {
            w.remember_idempotent(&k.key, k.call.case_id, &k.call.use_case, k.at)?;
        }
        for (day, last) in &seqs {
            w.set_case_seq(*day, *last)?;
        }
        for e in &events {
            w.insert_audit_event(e)?;
        }
        Ok(())
    })
    .unwrap();
    let v = dst.verify_audit().unwrap();
    assert!(v.ok, "{v:?}");
    assert_eq!(v.events as usize, events.len());
    let (copied, docs2, bytes2, next) = dst
        .transact(|r| {
            let d = r.all_documents()?;
            let b = r.document_bytes(&d[0])?;
            Ok((
                r.audit_events(1, 100_000)?,
                d,
                b,
                r.next_case_seq(seqs[0].0)?,
            ))
        })
        .unwrap();
    assert_eq!(copied, events, "the chain is copied as it is");
    assert_eq!(docs2, docs);
    assert_eq!(bytes2, bytes);
    assert_eq!(next, seqs[0].1 + 1);
}

/// `staff_names`: the names of the accounts among the ids asked for (disabled ones too), in
/// id order, one entry per account; ids without an account are left out.
pub fn staff_names_are_read_for_the_ids_asked_only<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    setup(&svc);
    let store = fix.again();
    store
        .transact(|w| {
            let mut s = w.staff(&StaffId::parse("tel02")?)?.expect("tel02");
            s.disabled = true;
            w.update_staff(&s)
        })
        .unwrap();
    let names = store
        .read(|r| r.staff_names(&["tel02", "system:cli", "nobody", "sup01", "tel02"]))
        .unwrap();
    assert_eq!(
        names,
        vec![
            ("sup01".to_string(), "职员sup01".to_string()),
            ("tel02".to_string(), "职员tel02".to_string()),
        ]
    );
    assert!(store.read(|r| r.staff_names(&[])).unwrap().is_empty());
    assert!(store
        .read(|r| r.staff_names(&["nobody"]))
        .unwrap()
        .is_empty());
}
