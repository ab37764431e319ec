//! Integration tests of the use cases on real SQLite files: the whole counter path, four-eyes
//! on every authorizing path, idempotency, concurrency, migrations, and the audit chain's
//! tamper detection.

use std::path::Path;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use rusqlite::Connection;
use unlockdesk_core::ports::{CaseQuery, FixedClock, OsEntropy, Store};
use unlockdesk_core::service::*;
use unlockdesk_core::*;
use unlockdesk_store::SqliteStore;

const PW: &str = "Counter#2026";
/// A synthetic resident ID (GB 11643-1999 specimen body with a valid check character).
const ID: &str = "11010519491231002X";

fn svc_at(path: &Path, clock: Arc<FixedClock>) -> Service<SqliteStore> {
    Service::new(SqliteStore::open(path).unwrap(), clock, Arc::new(OsEntropy))
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).unwrap(),
    ))
}

/// Branch + admin + two tellers + two supervisors, all with `PW`.
fn setup(svc: &Service<SqliteStore>) -> (Actor, Actor, Credentials, Credentials) {
    svc.setup(
        &SetupInput {
            branch_code: "t1".into(),
            branch_name: "测试支行".into(),
            time_zone: "Asia/Shanghai".into(),
            admin_id: "admin".into(),
            admin_name: "管理员".into(),
            admin_password: PW.into(),
        },
        "test",
    )
    .unwrap();
    let admin = svc.actor_for("admin", PW, "test").unwrap();
    for (id, role) in [
        ("tel01", Role::Teller),
        ("tel02", Role::Teller),
        ("sup01", Role::Supervisor),
        ("sup02", Role::Supervisor),
    ] {
        svc.add_staff(
            &admin,
            &NewStaff {
                id: id.into(),
                name: id.into(),
                role,
                password: "Initial#2026".into(),
            },
        )
        .unwrap();
        // must change at first sign-in
        assert_eq!(
            svc.actor_for(id, "Initial#2026", "test").unwrap_err().code,
            ErrorCode::PasswordChangeRequired
        );
        svc.change_password(id, "Initial#2026", PW, "test").unwrap();
    }
    let tel01 = svc.actor_for("tel01", PW, "t").unwrap();
    let tel02 = svc.actor_for("tel02", PW, "t").unwrap();
    (
        tel01,
        tel02,
        Credentials {
            staff_id: "sup01".into(),
            password: PW.into(),
        },
        Credentials {
            staff_id: "SUP02".into(),
            password: PW.into(),
        },
    )
}

fn form() -> ApplicationForm {
    ApplicationForm {
        customer_name: "测试甲".into(),
        sex: Some(Sex::Female),
        nationality: "中国".into(),
        occupation: "职员".into(),
        address: "北京市东城区测试路1号".into(),
        phone: "+86 131 2345 6789".into(),
        id_type: "prc-id".into(),
        id_number: ID.into(),
        id_valid_until: "long-term".into(),
        wallet_operator: "运营机构A".into(),
        wallet_id: "0099123456789012".into(),
        wallet_class: "2".into(),
        lock_cause: Some(LockCause::WrongPassword),
        requested_action: Some(RequestedAction::Unlock),
        reason: "forgot password".into(),
        bank_card: "6200 0000 0000 0005".into(),
        declaration_true: true,
        consent_query: true,
        risk_acknowledged: true,
        materials: vec![
            "id-document".into(),
            "bank-account".into(),
            "wallet-details".into(),
        ],
        ..Default::default()
    }
}

fn walk_in(svc: &Service<SqliteStore>, teller: &Actor) -> CaseId {
    let v = svc
        .open_case(
            teller,
            &OpenCaseInput {
                customer_name: "测试甲".into(),
                phone: "13123456789".into(),
                lock_cause: Some(LockCause::WrongPassword),
                ..Default::default()
            },
            None,
        )
        .unwrap();
    v.case.id
}

/// A walk-in (测试甲) whose resident ID card has been verified.
/// The resident ID card of 测试甲 (`ID`), as the identity step takes it.
fn id_card() -> IdentityInput {
    IdentityInput {
        kind: "prc-id".into(),
        number: ID.into(),
        name_on_document: "测试甲".into(),
        ..Default::default()
    }
}

fn identified_walk_in(svc: &Service<SqliteStore>, teller: &Actor) -> CaseId {
    let c = walk_in(svc, teller);
    let idn = id_card();
    svc.verify_identity(teller, c, &idn, None).unwrap();
    c
}

fn to_submitted(svc: &Service<SqliteStore>, teller: &Actor) -> CaseId {
    let c = identified_walk_in(svc, teller);
    svc.record_form(teller, c, &form(), None).unwrap();
    svc.confirm_signed(teller, c, None).unwrap();
    svc.submit(teller, c, None).unwrap();
    c
}

#[test]
fn walk_in_to_closed_with_history_and_masking() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("unlockdesk.db");
    let svc = svc_at(&db, clock());
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
    let v = svc.close_case(&tel01, c, None).unwrap();
    assert_eq!(v.case.state, CaseState::Closed);
    assert_eq!(v.case.case_number, "T1-20261129-0001");
    let actions: Vec<&str> = v.history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "open-case",
            "verify-identity",
            "record-form",
            "confirm-signed",
            "submit",
            "approve",
            "log-contact",
            "confirm-unlock",
            "close"
        ]
    );
    // Masked everywhere in the view.
    let json = serde_json::to_string(&v).unwrap();
    for full in [ID, "13123456789", "6200000000000005", "0099123456789012"] {
        assert!(!json.contains(full), "{full} leaked into the case view");
    }
    assert_eq!(v.case.form.as_ref().unwrap().phone, "131****6789");
    // Reopen the file: everything is there and the chain verifies.
    drop(svc);
    let svc = svc_at(&db, clock());
    let tel01 = svc.actor_for("tel01", PW, "t").unwrap();
    assert_eq!(
        svc.case_view(&tel01, c).unwrap().case.state,
        CaseState::Closed
    );
    let ver = svc.verify_audit().unwrap();
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

#[test]
fn maker_cannot_authorize_on_any_path() {
    let dir = tempfile::tempdir().unwrap();
    let svc = svc_at(&dir.path().join("u.db"), clock());
    let (tel01, _, sup01, _) = setup(&svc);
    // sup01 makes the case (a supervisor may do teller steps, and then is a maker).
    let sup_actor = svc.actor_for("sup01", PW, "t").unwrap();
    let c = to_submitted(&svc, &sup_actor);
    for d in [Decision::Approve, Decision::ReturnForInfo, Decision::Reject] {
        let e = svc
            .authorize(&tel01, c, &sup01, d, Some("other"), "x", None)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::FourEyes, "{d}");
        // canonical id: SUP01 is the same person
        let upper = Credentials {
            staff_id: "SUP01".into(),
            password: PW.into(),
        };
        assert_eq!(
            svc.authorize(&tel01, c, &upper, d, Some("other"), "x", None)
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

#[test]
fn idempotency_key_makes_one_transition() {
    let dir = tempfile::tempdir().unwrap();
    let svc = svc_at(&dir.path().join("u.db"), clock());
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
        number: ID.into(),
        name_on_document: "测试乙".into(),
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

/// A key is one attempt of one request: sent again with another step, another case or as an
/// open-case, it is refused (`conflict`) and nothing is applied — never a silent replay.
#[test]
fn idempotency_key_reused_for_another_request_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let svc = svc_at(&dir.path().join("u.db"), clock());
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
    let e = svc.close_case(&tel01, c, Some("k-2")).unwrap_err();
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
            Some("suspected-fraud"),
            "",
            Some("k-3"),
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(e.message.contains("approve"), "{}", e.message);
}

/// `update_case` sets only the indexed columns that changed; the searches on them (state,
/// ID and phone last 4, name) must still follow every change the steps make.
#[test]
fn case_search_columns_follow_each_step() {
    let dir = tempfile::tempdir().unwrap();
    let svc = svc_at(&dir.path().join("u.db"), clock());
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
                state: Some(state),
                ..Default::default()
            },
        )
        .unwrap()
        .len()
    };
    assert_eq!(by_state(CaseState::FormRecorded), 1);
    svc.confirm_signed(&tel01, c, None).unwrap();
    assert_eq!(by_state(CaseState::FormRecorded), 0);
    assert_eq!(by_state(CaseState::FormSigned), 1);
    assert_eq!(found("测试"), vec![c]);
}

/// Amending a recorded form (after a restart, or returned for information): the window holds
/// only masked numbers, so a blank or masked phone, wallet id or card keeps the recorded value;
/// a number typed in full replaces it and is checked.
#[test]
fn amending_keeps_recorded_numbers_left_blank_or_masked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.db");
    let svc = svc_at(&path, clock());
    let (tel01, _, _, _) = setup(&svc);
    let c = identified_walk_in(&svc, &tel01);
    let v = svc.record_form(&tel01, c, &form(), None).unwrap();
    // What the window has after a restart: the masked form.
    let mut amended = v.case.form.clone().unwrap();
    assert!(amended.phone.contains('*') && amended.bank_card.contains('*'));
    amended.wallet_id = String::new();
    amended.reason = "forgot password; second try".into();
    svc.record_form(&tel01, c, &amended, None).unwrap();
    let stored = svc.store().read(|tx| tx.case(c)).unwrap().unwrap();
    let f = stored.form.unwrap();
    assert_eq!(f.phone, "13123456789");
    assert_eq!(f.wallet_id, "0099123456789012");
    assert_eq!(f.bank_card, "6200000000000005");
    assert_eq!(f.id_number, ID);
    assert_eq!(f.reason, "forgot password; second try");
    // A new number typed in full replaces the recorded one, and is checked.
    amended.phone = "139 0000 1234".into();
    svc.record_form(&tel01, c, &amended, None).unwrap();
    let stored = svc.store().read(|tx| tx.case(c)).unwrap().unwrap();
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
    let stored = svc.store().read(|tx| tx.case(c)).unwrap().unwrap();
    let f = stored.form.unwrap();
    assert_eq!(f.bank_card, "");
    assert_eq!(f.phone, "13900001234");
}

/// The form must be the person verified at the identity step: another name, another
/// document number or the other sex than the number encodes is refused, and nothing changes.
#[test]
fn form_must_be_the_verified_person() {
    let dir = tempfile::tempdir().unwrap();
    let svc = svc_at(&dir.path().join("u.db"), clock());
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
    other_doc.id_type = "residence-permit".into();
    other_doc.id_number = "830000199001011234".into();
    assert!(rules(&other_doc)
        .iter()
        .any(|(f, r)| f == "id_type" && r == "identity-mismatch"));
    let mut wrong_sex = form();
    wrong_sex.sex = Some(Sex::Male);
    assert_eq!(
        rules(&wrong_sex),
        [("sex".to_string(), "id-sex".to_string())]
    );
    let v = svc.case_view(&tel01, c).unwrap();
    assert_eq!(v.case.state, CaseState::IdentityVerified);
    assert_eq!(v.case.customer_name, "测试甲");
    // The verified person's form is accepted.
    svc.record_form(&tel01, c, &form(), None).unwrap();
}

/// An agent's recorded numbers are kept only for the same agent: a different guardian left
/// with blank numbers is refused, never given the previous guardian's numbers.
#[test]
fn amending_keeps_agent_numbers_only_for_the_same_agent() {
    let dir = tempfile::tempdir().unwrap();
    let svc = svc_at(&dir.path().join("u.db"), clock());
    let (tel01, _, _, _) = setup(&svc);
    let c = identified_walk_in(&svc, &tel01);
    let mut f = form();
    f.agent = Some(Agent {
        name: "测试乙".into(),
        id_type: "prc-id".into(),
        id_number: "11010519491231002X".into(),
        phone: "13700001111".into(),
        relationship: "配偶".into(),
    });
    let v = svc.record_form(&tel01, c, &f, None).unwrap();
    let mut amended = v.case.form.clone().unwrap();
    let agent = amended.agent.as_mut().unwrap();
    agent.phone = String::new();
    svc.record_form(&tel01, c, &amended, None).unwrap();
    let stored = svc.store().read(|tx| tx.case(c)).unwrap().unwrap();
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

#[test]
fn two_approvals_at_once_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    let svc = svc_at(&db, clock());
    let (tel01, _, sup01, sup02) = setup(&svc);
    let c = to_submitted(&svc, &tel01);
    drop(svc);
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let handles: Vec<_> = [sup01, sup02]
        .into_iter()
        .map(|creds| {
            let db = db.clone();
            let barrier = barrier.clone();
            let tel01 = tel01.clone();
            std::thread::spawn(move || {
                // Separate connections, as two terminals would have.
                let svc = svc_at(&db, clock());
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

#[test]
fn lockout_after_failed_sign_ins_and_admin_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let svc = svc_at(&dir.path().join("u.db"), clock());
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
    let admin = svc.actor_for("admin", PW, "t").unwrap();
    svc.unlock_staff(&admin, "tel01").unwrap();
    assert!(svc.sign_in("tel01", PW, "t").is_ok());
}

#[test]
fn session_locks_after_idle_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let clk = clock();
    let svc = svc_at(&dir.path().join("u.db"), clk.clone());
    setup(&svc);
    let mut s = svc.sign_in("tel01", PW, "t").unwrap();
    clk.advance(chrono::Duration::minutes(4));
    svc.touch(&mut s).unwrap();
    clk.advance(chrono::Duration::minutes(5));
    assert_eq!(
        svc.touch(&mut s).unwrap_err().code,
        ErrorCode::SessionLocked
    );
    assert!(s.locked);
    svc.unlock_session(&mut s, PW).unwrap();
    svc.touch(&mut s).unwrap();
}

#[test]
fn authority_freeze_refused_at_check_in() {
    let dir = tempfile::tempdir().unwrap();
    let svc = svc_at(&dir.path().join("u.db"), clock());
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

#[test]
fn bad_form_reports_every_field_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let svc = svc_at(&dir.path().join("u.db"), clock());
    let (tel01, _, _, _) = setup(&svc);
    let c = walk_in(&svc, &tel01);
    let idn = IdentityInput {
        kind: "prc-id".into(),
        number: "110105194912310021".into(),
        name_on_document: "测试甲".into(),
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
        number: "１１０１０５１９４９１２３１００２ｘ".into(),
        name_on_document: "测试甲".into(),
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

#[test]
fn newer_database_refuses_older_binary() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    drop(SqliteStore::open(&db).unwrap());
    Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let e = SqliteStore::open(&db).err().unwrap();
    assert_eq!(e.code, ErrorCode::Storage);
    assert!(e.message.contains("newer"), "{}", e.message);
}

#[test]
fn migrate_from_empty_and_reopen_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    let s = SqliteStore::open(&db).unwrap();
    s.check_integrity().unwrap();
    drop(s);
    let s = SqliteStore::open(&db).unwrap();
    let v: i64 = Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, unlockdesk_store::SCHEMA_VERSION);
    let mode: String = Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert!(s.verify_audit().unwrap().ok);
}

/// Populate a store, return its path.
fn populated(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("u.db");
    let svc = svc_at(&db, clock());
    let (tel01, _, sup01, _) = setup(&svc);
    let c = to_submitted(&svc, &tel01);
    svc.authorize(&tel01, c, &sup01, Decision::Approve, None, "", None)
        .unwrap();
    db
}

fn verify(db: &Path) -> unlockdesk_core::ports::AuditVerification {
    SqliteStore::open(db).unwrap().verify_audit().unwrap()
}

#[test]
fn audit_trail_refuses_update_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let conn = Connection::open(&db).unwrap();
    assert!(conn
        .execute("UPDATE audit_events SET reason = 'x' WHERE seq = 3", [])
        .is_err());
    assert!(conn
        .execute("DELETE FROM audit_events WHERE seq = 3", [])
        .is_err());
    assert!(verify(&db).ok);
}

fn drop_triggers(conn: &Connection) {
    conn.execute_batch("DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;")
        .unwrap();
}

#[test]
fn tamper_edit_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let conn = Connection::open(&db).unwrap();
    drop_triggers(&conn);
    conn.execute(
        "UPDATE audit_events SET staff_id = 'sup02' WHERE action = 'approve'",
        [],
    )
    .unwrap();
    let v = verify(&db);
    assert!(!v.ok);
    let seq: i64 = conn
        .query_row(
            "SELECT seq FROM audit_events WHERE action = 'approve'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(v.broken_at, Some(seq));
}

#[test]
fn tamper_delete_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let conn = Connection::open(&db).unwrap();
    drop_triggers(&conn);
    conn.execute("DELETE FROM audit_events WHERE seq = 5", [])
        .unwrap();
    let v = verify(&db);
    assert!(!v.ok);
    assert_eq!(v.broken_at, Some(6));
    // Truncating the tail is caught by the head.
    let dir2 = tempfile::tempdir().unwrap();
    let db2 = populated(dir2.path());
    let conn2 = Connection::open(&db2).unwrap();
    drop_triggers(&conn2);
    conn2
        .execute(
            "DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)",
            [],
        )
        .unwrap();
    assert!(!verify(&db2).ok);
}

#[test]
fn tamper_swap_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let conn = Connection::open(&db).unwrap();
    drop_triggers(&conn);
    // Swap the contents of rows 4 and 5 (keeping their seq).
    conn.execute_batch(
        "CREATE TEMP TABLE t AS SELECT * FROM audit_events WHERE seq IN (4, 5);
         UPDATE audit_events SET (at, staff_id, role, terminal, case_id, action, from_state, to_state, reason, outcome, detail, prev_hash, hash)
           = (SELECT at, staff_id, role, terminal, case_id, action, from_state, to_state, reason, outcome, detail, prev_hash, hash FROM t WHERE t.seq = 9 - audit_events.seq)
           WHERE seq IN (4, 5);",
    )
    .unwrap();
    let v = verify(&db);
    assert!(!v.ok);
    assert_eq!(v.broken_at, Some(4));
}

#[test]
fn backup_round_trips_content() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let store = SqliteStore::open(&db).unwrap();
    let bak = dir.path().join("backup.db");
    store.backup_to(&bak).unwrap();
    let dump = |p: &Path| -> Vec<String> {
        let c = Connection::open(p).unwrap();
        let mut out = Vec::new();
        for t in [
            "branch",
            "staff",
            "cases",
            "audit_events",
            "audit_head",
            "appointments",
            "documents",
            "case_seq",
            "idempotency",
        ] {
            let mut st = c.prepare(&format!("SELECT * FROM {t} ORDER BY 1")).unwrap();
            let n = st.column_count();
            let rows = st
                .query_map([], |r| {
                    Ok((0..n)
                        .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                        .collect::<Vec<_>>()
                        .join("|"))
                })
                .unwrap();
            out.extend(rows.map(|r| format!("{t}:{}", r.unwrap())));
        }
        out
    };
    let before = dump(&db);
    assert!(before.len() > 10);
    assert_eq!(before, dump(&bak));
    // Restore into a fresh store gives the same content.
    let other = dir.path().join("other.db");
    let s2 = SqliteStore::open(&other).unwrap();
    s2.restore_from(&bak).unwrap();
    drop(s2);
    assert_eq!(before, dump(&other));
    let _ = store.verify_audit().unwrap();
}

/// A synthetic, unexpired passport MRZ (ICAO 9303 TD3; check digits computed).
const PASSPORT_L1: &str = "P<CHNZHANG<<SAN<<<<<<<<<<<<<<<<<<<<<<<<<<<<<";
const PASSPORT_L2: &str = "E123456782CHN9005226M3404252<<<<<<<<<<<<<<08";

#[test]
fn branch_id_policy_decides_which_evidence_suffices() {
    let dir = tempfile::tempdir().unwrap();
    let svc = svc_at(&dir.path().join("u.db"), clock());
    let (tel01, _, _, _) = setup(&svc);
    let admin = svc.actor_for("admin", PW, "test").unwrap();
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
