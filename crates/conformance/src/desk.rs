//! The supervisors' authorization desk (待授权): what waits, for whom, and the events that
//! move the queue, on every store.

use super::*;
use unlockdesk_core::authorizations::AuthorizationKind;

fn sup(svc: &dyn Counter, id: &str, terminal: &str) -> Actor {
    svc.authenticate(id, PW, terminal).unwrap()
}

fn contact(svc: &dyn Counter, who: &Actor, c: CaseId) {
    svc.log_contact(
        who,
        c,
        &ContactInput {
            channel: ContactChannel::Phone,
            ticket: "OP-1".into(),
            result: "unlocked".into(),
        },
        None,
    )
    .unwrap();
}

fn unlock_input() -> UnlockInput {
    UnlockInput {
        operator_reference: "OPREF-77".into(),
        notified_via: NotificationChannel::Sms,
    }
}

/// Each kind waits from its request until it is done; makers and the asker never get an
/// actionable row (and are refused); an opened request names who has it; the events come in
/// audit order.
pub fn authorization_queue_kinds_four_eyes_and_events<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _tel02, sup01_creds, _) = setup(&svc);
    let sup01 = sup(&svc, "sup01", "desk-s1");
    let sup02 = sup(&svc, "sup02", "desk-s2");
    let start = svc.authorization_events(&sup01, None, 1).unwrap().last_seq;
    assert!(svc.authorization_queue(&sup01).unwrap().is_empty());

    // A co-check waits from the identity check of a passport.
    let cc = walk_in(&svc, &tel01);
    let passport = IdentityInput {
        kind: "passport-mrz".into(),
        number: PASSPORT_L1.into(),
        mrz_line2: PASSPORT_L2.into(),
        name_on_document: "Zhang San".into(),
        ..Default::default()
    };
    svc.verify_identity(&tel01, cc, &passport, None).unwrap();
    // An authorization waits from the submit.
    let a = to_submitted(&svc, &tel01);
    // A supervisor who did a teller step is a maker of their own case.
    let own = to_submitted(&svc, &sup02);

    let q = svc.authorization_queue(&sup01).unwrap();
    let kinds: Vec<(CaseId, AuthorizationKind)> = q.iter().map(|i| (i.case_id, i.kind)).collect();
    assert_eq!(
        kinds,
        [
            (cc, AuthorizationKind::CoCheck),
            (a, AuthorizationKind::Authorize),
            (own, AuthorizationKind::Authorize)
        ],
        "oldest first"
    );
    let row = &q[1];
    assert_eq!(row.makers, [StaffId::parse("tel01").unwrap()]);
    assert_eq!(row.terminal, "t");
    assert_eq!(row.requested_by.as_str(), "tel01");
    assert_eq!(
        row.customer_name,
        unlockdesk_core::masking::name("测试甲"),
        "masked as on screens"
    );
    assert_ne!(row.customer_name, "测试甲");
    assert_eq!(row.lock_cause, Some(LockCause::WrongPassword));
    assert!(row.actionable && row.opened_by.is_none());
    assert!(q.iter().all(|i| i.actionable), "sup01 made none of them");

    // sup02 sees its own case listed, never actionable, and is refused anyway.
    let q2 = svc.authorization_queue(&sup02).unwrap();
    let mine = q2.iter().find(|i| i.case_id == own).unwrap();
    assert!(!mine.actionable);
    assert!(mine
        .not_actionable
        .as_deref()
        .unwrap()
        .contains("four-eyes"));
    assert_eq!(
        svc.open_authorization(&sup02, own).unwrap_err().code,
        ErrorCode::FourEyes
    );
    // A teller reads the queue but acts on nothing, and may not open a request.
    assert!(svc
        .authorization_queue(&tel01)
        .unwrap()
        .iter()
        .all(|i| !i.actionable));
    assert_eq!(
        svc.open_authorization(&tel01, a).unwrap_err().code,
        ErrorCode::Forbidden
    );

    // sup01 opens `a`: sup02 sees who has it; the case view says so too.
    let opened = svc.open_authorization(&sup01, a).unwrap();
    assert_eq!(opened.opened_by.as_ref().map(|s| s.as_str()), Some("sup01"));
    let seen = svc.authorization_queue(&sup02).unwrap();
    let row = seen.iter().find(|i| i.case_id == a).unwrap();
    assert_eq!(row.opened_by.as_ref().map(|s| s.as_str()), Some("sup01"));
    let view = svc.case_view(&tel01, a).unwrap();
    let pending = view.pending_authorization.unwrap();
    assert_eq!(pending.kind, AuthorizationKind::Authorize);
    assert_eq!(pending.opened_by.unwrap().as_str(), "sup01");

    // Nothing waits on a case in another state.
    let fresh = walk_in(&svc, &tel01);
    assert_eq!(
        svc.open_authorization(&sup01, fresh).unwrap_err().code,
        ErrorCode::IllegalTransition
    );

    // The decision at sup01's own desk (their password again) takes `a` off the queue.
    svc.authorize(&sup01, a, &sup01_creds, Decision::Approve, None, "", None)
        .unwrap();
    svc.cocheck_identity(&sup01, cc, &sup01_creds, None)
        .unwrap();
    let left: Vec<CaseId> = svc
        .authorization_queue(&sup01)
        .unwrap()
        .iter()
        .map(|i| i.case_id)
        .collect();
    assert_eq!(left, [own]);

    // The unlock's confirmation: asked by the teller, confirmed at the supervisor's desk.
    assert_eq!(
        svc.request_confirm_unlock(&tel01, a, &unlock_input(), None)
            .unwrap_err()
            .code,
        ErrorCode::IllegalTransition,
        "no operator contact yet"
    );
    contact(&svc, &tel01, a);
    let bad = UnlockInput {
        operator_reference: "  ".into(),
        ..unlock_input()
    };
    let e = svc
        .request_confirm_unlock(&tel01, a, &bad, None)
        .unwrap_err();
    assert_eq!(e.fields[0].field, "operator_reference");
    let v = svc
        .request_confirm_unlock(&tel01, a, &unlock_input(), None)
        .unwrap();
    assert_eq!(v.case.state, CaseState::Approved);
    assert_eq!(v.case.unlock_request.as_ref().unwrap().by.as_str(), "tel01");
    let row = svc
        .authorization_queue(&sup01)
        .unwrap()
        .into_iter()
        .find(|i| i.case_id == a)
        .unwrap();
    assert_eq!(row.kind, AuthorizationKind::ConfirmUnlock);
    assert!(row.actionable);
    // At the desk, what is confirmed is what the teller asked: other words are refused.
    let other = UnlockInput {
        operator_reference: "OPREF-OTHER".into(),
        ..unlock_input()
    };
    assert_eq!(
        svc.confirm_unlock(&sup01, a, &sup01_creds, &other, None)
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    let done = svc
        .confirm_unlock(&sup01, a, &sup01_creds, &unlock_input(), None)
        .unwrap();
    assert_eq!(done.case.state, CaseState::Unlocked);
    let u = done.case.unlock.unwrap();
    assert_eq!(
        u.confirmed_by.as_str(),
        "tel01",
        "the teller who asked did it"
    );
    assert_eq!(u.authorized_by.as_str(), "sup01");
    assert!(done.case.unlock_request.is_none());

    // The events, in audit order, after the position read at the start.
    let page = svc.authorization_events(&sup02, Some(start), 1000).unwrap();
    let got: Vec<(String, CaseId, Option<AuthorizationKind>)> = page
        .events
        .iter()
        .map(|e| (e.event.clone(), e.case_id, e.kind))
        .collect();
    use AuthorizationKind as K;
    let r = |s: &str| s.to_string();
    assert_eq!(
        got,
        [
            (r("requested"), cc, Some(K::CoCheck)),
            (r("requested"), a, Some(K::Authorize)),
            (r("requested"), own, Some(K::Authorize)),
            (r("opened"), a, Some(K::Authorize)),
            (r("decided"), a, Some(K::Authorize)),
            (r("decided"), cc, Some(K::CoCheck)),
            (r("requested"), a, Some(K::ConfirmUnlock)),
            (r("decided"), a, Some(K::ConfirmUnlock)),
        ]
    );
    assert!(page.events.windows(2).all(|w| w[0].seq < w[1].seq));
    // Reading on from the last position finds nothing new; a position past the head reads on
    // from the head.
    let again = svc
        .authorization_events(&sup02, Some(page.last_seq), 1000)
        .unwrap();
    assert!(again.events.is_empty());
    assert_eq!(again.last_seq, page.last_seq);
    let past = svc
        .authorization_events(&sup02, Some(page.last_seq + 1000), 10)
        .unwrap();
    assert_eq!(past.last_seq, page.last_seq);
    // A small page scans at most `limit` audit events and reads on from there.
    let first = svc.authorization_events(&sup02, Some(start), 1).unwrap();
    assert_eq!(first.last_seq, start + 1);
    assert!(svc.verify_audit(&sup01).unwrap().ok);
}

/// The one who asked for the unlock's confirmation may not give it, even as a supervisor;
/// a failed unlock withdraws the request.
pub fn unlock_confirmation_is_never_given_by_its_asker<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, sup01_creds, sup02_creds) = setup(&svc);
    let sup02 = sup(&svc, "sup02", "desk-s2");
    let c = to_submitted(&svc, &tel01);
    svc.authorize(&tel01, c, &sup01_creds, Decision::Approve, None, "", None)
        .unwrap();
    contact(&svc, &sup02, c);
    svc.request_confirm_unlock(&sup02, c, &unlock_input(), None)
        .unwrap();
    let row = svc
        .authorization_queue(&sup02)
        .unwrap()
        .into_iter()
        .find(|i| i.case_id == c)
        .unwrap();
    assert!(!row.actionable);
    let e = svc
        .confirm_unlock(&sup02, c, &sup02_creds, &unlock_input(), None)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::FourEyes);
    // A failed attempt withdraws the request.
    svc.record_unlock_failure(
        &tel01,
        c,
        &UnlockFailureInput {
            reason: "operator system down".into(),
            next: UnlockFailureNext::Retry,
            operator_ticket: String::new(),
        },
        None,
    )
    .unwrap();
    assert!(svc.authorization_queue(&sup02).unwrap().is_empty());
}

/// A tiny valid PNG (1×1), as a scanner's output (`tests/fixtures/signed-scan.png`).
pub const SCAN_PNG: &[u8] = include_bytes!("../../../tests/fixtures/signed-scan.png");

/// The signed paper's scan: typed by content, only once the form is printed, stored with its
/// SHA-256 for the current form revision (an amendment needs a new one), audited, and required
/// before submit only where the branch says so.
pub fn signed_scan_is_typed_stored_per_revision_and_required_by_policy<F: Fixture>(fix: &F) {
    let svc = svc(fix, clock());
    let (tel01, _, sup01, _) = setup(&svc);
    let c = identified_walk_in(&svc, &tel01);
    // Before the form is printed: refused.
    let e = svc
        .attach_signed_scan(&tel01, c, "scan.png", SCAN_PNG, None)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::IllegalTransition);
    svc.record_form(&tel01, c, &form(), None).unwrap();
    let e = svc
        .attach_signed_scan(&tel01, c, "scan.png", SCAN_PNG, None)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::IllegalTransition, "not printed yet");
    print_delivered(&svc, &tel01, c, print::DocumentKind::Application);
    // Typed by content, never by name: text named .png, an empty file, a cut PNG.
    for (name, bytes, rule) in [
        ("scan.png", b"not an image at all".as_slice(), "type"),
        ("scan.png", b"".as_slice(), "required"),
        ("scan.png", &SCAN_PNG[..SCAN_PNG.len() - 12], "type"),
    ] {
        let e = svc
            .attach_signed_scan(&tel01, c, name, bytes, None)
            .unwrap_err();
        assert_eq!(
            (e.fields[0].field.as_str(), e.fields[0].rule.as_str()),
            ("file", rule)
        );
    }
    let big = vec![0u8; unlockdesk_core::service::MAX_SCAN_BYTES + 1];
    let e = svc
        .attach_signed_scan(&tel01, c, "big.jpg", &big, None)
        .unwrap_err();
    assert_eq!(e.fields[0].rule, "max-size");
    // A PNG named .pdf is a PNG; a system actor may not attach.
    let reader = svc.system_actor(SystemActor::CliReader, "t");
    assert_eq!(
        svc.attach_signed_scan(&reader, c, "x.png", SCAN_PNG, None)
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let v = svc
        .attach_signed_scan(
            &tel01,
            c,
            "/home/tel01/扫描 01.pdf",
            SCAN_PNG,
            Some("scan-1"),
        )
        .unwrap();
    let scan = v.case.signed_scans.last().unwrap().clone();
    assert_eq!(scan.media_type, "image/png");
    assert_eq!(scan.file_name, "扫描 01.pdf");
    assert_eq!(scan.form_revision, 1);
    assert_eq!(scan.sha256, sha256_hex(SCAN_PNG));
    assert_eq!(
        svc.document_bytes(&tel01, c, &scan.document_id).unwrap(),
        SCAN_PNG
    );
    let doc = v
        .documents
        .iter()
        .find(|d| d.id == scan.document_id)
        .unwrap();
    assert_eq!(doc.kind, print::DocumentKind::SignedScan);
    assert!(doc.path.ends_with(".png"), "{}", doc.path);
    assert_eq!(
        v.history.last().unwrap().action,
        "attach-signed-scan",
        "audited"
    );
    assert!(v.history.last().unwrap().detail.contains(&scan.sha256));
    // The same key again attaches nothing twice.
    let again = svc
        .attach_signed_scan(&tel01, c, "scan.png", SCAN_PNG, Some("scan-1"))
        .unwrap();
    assert_eq!(again.case.signed_scans.len(), 1);
    // A signed scan is never printed or rendered.
    assert_eq!(
        svc.render_document(
            &tel01,
            c,
            print::DocumentKind::SignedScan,
            print::CopyKind::Bank
        )
        .unwrap_err()
        .fields[0]
            .field,
        "form"
    );

    // The branch asks for the scan before submit: an amended form's old scan does not count.
    let admin = svc.authenticate("admin", PW, "test").unwrap();
    let mut b = svc.branch().unwrap();
    b.signed_scan_required = true;
    svc.update_branch(&admin, &b).unwrap();
    let c2 = identified_walk_in(&svc, &tel01);
    svc.record_form(&tel01, c2, &form(), None).unwrap();
    print_and_sign(&svc, &tel01, c2);
    let e = svc.submit(&tel01, c2, None).unwrap_err();
    assert_eq!(
        (e.fields[0].field.as_str(), e.fields[0].rule.as_str()),
        ("signed_scan", "required")
    );
    svc.attach_signed_scan(&tel01, c2, "scan.png", SCAN_PNG, None)
        .unwrap();
    svc.submit(&tel01, c2, None).unwrap();
    // Returned, amended (revision 2), printed and signed again: a new scan is needed.
    svc.authorize(
        &tel01,
        c2,
        &sup01,
        Decision::ReturnForInfo,
        Some(ReasonCode::FormIncomplete),
        "",
        None,
    )
    .unwrap();
    let mut amended = form();
    amended.address = "北京市东城区测试路2号".into();
    svc.record_form(&tel01, c2, &amended, None).unwrap();
    print_and_sign(&svc, &tel01, c2);
    let e = svc.submit(&tel01, c2, None).unwrap_err();
    assert_eq!(e.fields[0].field, "signed_scan");
    let v = svc
        .attach_signed_scan(&tel01, c2, "scan-2.png", SCAN_PNG, None)
        .unwrap();
    assert_eq!(v.case.current_scan().unwrap().form_revision, 2);
    assert_eq!(
        svc.submit(&tel01, c2, None).unwrap().case.state,
        CaseState::Submitted
    );
    assert!(svc.verify_audit(&admin).is_ok());
}
