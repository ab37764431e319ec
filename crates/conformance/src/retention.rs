//! Retention on every store: a closed case is read-only while its periods run; a purge is
//! prepared by one person and approved by another of the other role; a held case is never
//! purged; a purge leaves a tombstone and the destruction register, removes the personal
//! data, the documents and the appointment row, and the audit chain still verifies.

use super::*;
use unlockdesk_core::print::{CopyKind, DocumentKind};

/// Add an account that has set its own password.
pub fn add_person(svc: &dyn Counter, admin: &Actor, id: &str, role: Role) -> Actor {
    svc.add_staff(
        admin,
        &NewStaff {
            id: id.into(),
            name: format!("职员{id}"),
            role,
            password: "Initial#2026".into(),
        },
    )
    .unwrap();
    svc.change_password(id, "Initial#2026", PW, "test").unwrap();
    svc.authenticate(id, PW, "test").unwrap()
}

/// A case taken to `closed` with its application form and receipt printed.
pub fn closed_case(svc: &dyn Counter, tel: &Actor, sup: &Credentials) -> CaseId {
    let c = to_submitted(svc, tel);
    svc.authorize(tel, c, sup, Decision::Approve, None, "", None)
        .unwrap();
    svc.log_contact(
        tel,
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
        tel,
        c,
        sup,
        &UnlockInput {
            operator_reference: "OP-1".into(),
            notified_via: NotificationChannel::Sms,
        },
        None,
    )
    .unwrap();
    print_delivered(svc, tel, c, DocumentKind::Receipt);
    svc.close_case(tel, c, None, None).unwrap();
    c
}

/// The case as stored, read on another connection.
fn stored<F: Fixture>(fix: &F, c: CaseId) -> Case {
    fix.again().read(|tx| tx.case(c)).unwrap().unwrap()
}

/// The retention scenario on `fix`, returning (the purged closed case, the purged cancelled
/// case from an appointment, the held case, the open case) for adapter-specific checks (the
/// embedded store searches its files).
pub fn retention_scenario<F: Fixture>(fix: &F) -> (CaseId, CaseId, CaseId, CaseId) {
    let clk = clock();
    let svc = svc(fix, clk.clone());
    let (tel01, _, sup01, _) = setup(&svc);
    let admin = svc.authenticate("admin", PW, "test").unwrap();
    let aud01 = add_person(&svc, &admin, "aud01", Role::Auditor);
    let adm02 = add_person(&svc, &admin, "adm02", Role::Admin);

    // A: closed, with its form, receipt and their documents.
    let a = closed_case(&svc, &tel01, &sup01);
    // B: opened from a booked appointment, then cancelled.
    svc.import_appointments(&import_actor(&svc), &rows(&book()), "book.csv")
        .unwrap();
    let appt = svc.find_appointments(&reader(&svc), "R-2").unwrap()[0].id;
    let b = svc
        .open_case(
            &tel01,
            &OpenCaseInput {
                appointment_id: Some(appt),
                ..Default::default()
            },
            None,
        )
        .unwrap()
        .case
        .id;
    svc.cancel_case(&tel01, b, "customer left", None).unwrap();
    // C: cancelled, under legal hold. D: open.
    let c = walk_in(&svc, &tel01);
    svc.cancel_case(&tel01, c, "wrong branch", None).unwrap();
    let d = walk_in(&svc, &tel01);

    // A closed case refuses every change while its periods run.
    let e = svc
        .print_document(&tel01, a, DocumentKind::Receipt, CopyKind::Customer)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::IllegalTransition, "{e:?}");
    assert!(e.message.contains("read-only"), "{}", e.message);
    let doc = svc.case_view(&tel01, a).unwrap().documents[0].id.clone();
    let delivery = PrintDelivery {
        channel: PrintChannel::File,
        printer: None,
        job_id: None,
        outcome: PrintOutcome::Completed,
        message: String::new(),
    };
    assert!(svc.record_delivery(&tel01, a, &doc, &delivery).is_err());
    assert!(svc.cancel_case(&tel01, a, "again please", None).is_err());
    assert!(svc.record_form(&tel01, a, &form(), None).is_err());
    assert!(svc.close_case(&tel01, a, None, None).is_err());
    assert!(svc
        .refuse_authority_freeze(&tel01, a, "freeze", None)
        .is_err());
    // Reading and exporting stay allowed (audited).
    svc.render_document(&tel01, a, DocumentKind::Receipt, CopyKind::Customer)
        .unwrap();
    let before = stored(fix, a);
    assert_eq!(
        before.version,
        svc.case_view(&tel01, a).unwrap().case.version
    );

    // A legal hold is not a change to the case: version and state stay.
    let cv = stored(fix, c).version;
    let hold = svc
        .set_legal_hold(&aud01, c, "complaint 2026-118 open")
        .unwrap();
    assert_eq!(stored(fix, c).version, cv);
    assert_eq!(
        svc.set_legal_hold(&admin, c, "twice over")
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    assert_eq!(
        svc.set_legal_hold(&tel01, d, "a teller may not")
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        svc.set_legal_hold(&aud01, d, "ab").unwrap_err().code,
        ErrorCode::Invalid
    );
    let v = svc.case_view(&aud01, c).unwrap();
    assert_eq!(v.retention.unwrap().hold.unwrap().id, hold.id);

    // Nothing is due inside the period.
    let r = svc.retention_report(&aud01).unwrap();
    assert!(r.due.is_empty() && r.held.is_empty(), "{r:?}");
    assert_eq!((r.case_years, r.voucher_years), (10, 30));
    assert_eq!(
        svc.prepare_purge(&admin).unwrap_err().code,
        ErrorCode::IllegalTransition
    );
    assert_eq!(
        svc.retention_report(&tel01).unwrap_err().code,
        ErrorCode::Forbidden
    );

    // Eleven years on: the case class of A and B is due, C is held, D is open.
    clk.set(Utc.with_ymd_and_hms(2037, 12, 1, 2, 0, 0).unwrap());
    let r = svc.retention_report(&aud01).unwrap();
    let due: Vec<CaseId> = r.due.iter().map(|d| d.case_id).collect();
    assert_eq!(due.len(), 2, "{r:?}");
    assert!(due.contains(&a) && due.contains(&b));
    assert!(r
        .due
        .iter()
        .all(|d| d.classes.iter().map(|c| c.class).collect::<Vec<_>>() == [RecordClass::Case]));
    let b_due = r.due.iter().find(|d| d.case_id == b).unwrap();
    assert!(b_due.classes[0]
        .removes
        .contains(&"appointment".to_string()));
    assert_eq!(r.held.iter().map(|d| d.case_id).collect::<Vec<_>>(), [c]);
    // were booked and never came: their rows are due with the case class.
    assert_eq!(r.appointments_due, 2, "{r:?}");

    // Prepared by one person, approved by another of the other role.
    let batch = svc.prepare_purge(&admin).unwrap();
    assert_eq!(batch.state, PurgeBatchState::Prepared);
    assert_eq!(batch.items.len(), 2);
    assert_eq!(
        svc.prepare_purge(&aud01).unwrap_err().code,
        ErrorCode::Conflict,
        "one batch waits at a time"
    );
    let e = svc.approve_purge(&admin, &batch.id).unwrap_err();
    assert_eq!(e.code, ErrorCode::FourEyes, "the preparer may not approve");
    let e = svc.approve_purge(&adm02, &batch.id).unwrap_err();
    assert_eq!(e.code, ErrorCode::FourEyes, "nor another of the same role");
    // Nor an account the preparer made for the purpose after preparing it.
    let aud02 = add_person(&svc, &admin, "aud02", Role::Auditor);
    let e = svc.approve_purge(&aud02, &batch.id).unwrap_err();
    assert_eq!(e.code, ErrorCode::FourEyes, "{}", e.message);
    assert_eq!(
        svc.approve_purge(&tel01, &batch.id).unwrap_err().code,
        ErrorCode::Forbidden
    );
    // Nothing changed by the refusals.
    assert_eq!(stored(fix, a), before);
    let done = svc.approve_purge(&aud01, &batch.id).unwrap();
    assert_eq!(done.state, PurgeBatchState::Approved);
    assert_eq!(done.approved_by.as_ref().map(|s| s.as_str()), Some("aud01"));
    assert!(done.items.iter().all(|i| i.purged == [RecordClass::Case]));
    assert_eq!(done.appointments, 2);
    assert_eq!(
        svc.approve_purge(&aud01, &batch.id).unwrap_err().code,
        ErrorCode::Conflict
    );

    // Tombstones: number, dates, state, who prepared and who approved; no personal data.
    for id in [a, b] {
        let t = stored(fix, id);
        assert_eq!(t.customer_name, "");
        assert_eq!(t.phone, "");
        assert!(t.identity.is_none() && t.form.is_none() && t.appointment_id.is_none());
        assert_eq!(t.purges.len(), 1);
        assert_eq!(t.purges[0].prepared_by.as_str(), "admin");
        assert_eq!(t.purges[0].approved_by.as_str(), "aud01");
        let json = serde_json::to_string(&t).unwrap();
        for full in [ID, "13123456789", "测试甲", "6200000000000005"] {
            assert!(!json.contains(full), "{full} is left on the tombstone");
        }
    }
    assert_eq!(stored(fix, a).state, CaseState::Closed);
    assert_eq!(stored(fix, b).state, CaseState::Cancelled);
    // The appointment row went with B; A's documents stay (vouchers: 30 years).
    let appointments = fix.again().read(|tx| tx.all_appointments()).unwrap();
    assert!(appointments.is_empty(), "{appointments:?}");
    let kept = svc.case_view(&aud01, a).unwrap().documents;
    assert!(!kept.is_empty());
    for d in &kept {
        // The stored bytes themselves, not only their rows: vouchers are kept 30 years.
        fix.again()
            .read(|tx| tx.document_bytes(d))
            .unwrap_or_else(|e| panic!("voucher {} lost with the case class: {e:?}", d.path));
    }
    // The held case and the open case are untouched.
    assert_eq!(stored(fix, c).customer_name, "测试甲");
    assert_eq!(stored(fix, d).customer_name, "测试甲");
    // A tombstone refuses every change for ever, and renders nothing new.
    assert!(svc.cancel_case(&tel01, a, "again please", None).is_err());
    let e = svc
        .render_document(&tel01, a, DocumentKind::Receipt, CopyKind::Customer)
        .unwrap_err();
    assert!(e.message.contains("destroyed"), "{}", e.message);

    // Thirty-one years on: A's vouchers are due. Prepared by the auditor, approved by an
    // administrator; the held case is still spared.
    clk.set(Utc.with_ymd_and_hms(2057, 12, 1, 2, 0, 0).unwrap());
    let r = svc.retention_report(&admin).unwrap();
    let a_due = r.due.iter().find(|d| d.case_id == a).unwrap();
    assert_eq!(a_due.classes[0].class, RecordClass::Voucher);
    assert!(r.held.iter().any(|d| d.case_id == c));
    let batch2 = svc.prepare_purge(&aud01).unwrap();
    let done2 = svc.approve_purge(&adm02, &batch2.id).unwrap();
    assert!(done2
        .items
        .iter()
        .any(|i| i.case_id == a && i.purged == [RecordClass::Voucher]));
    assert!(svc.case_view(&aud01, a).unwrap().documents.is_empty());
    assert!(fix
        .again()
        .read(|tx| tx.all_documents())
        .unwrap()
        .iter()
        .all(|d| d.case_id != a));

    // A hold set between prepare and approve spares the case.
    svc.release_legal_hold(&aud01, c, "complaint settled")
        .unwrap();
    let batch3 = svc.prepare_purge(&admin).unwrap();
    assert!(batch3.items.iter().any(|i| i.case_id == c));
    svc.set_legal_hold(&aud01, c, "appeal lodged 2057").unwrap();
    let done3 = svc.approve_purge(&aud01, &batch3.id).unwrap();
    let item = done3.items.iter().find(|i| i.case_id == c).unwrap();
    assert!(item.purged.is_empty() && item.skipped.is_some(), "{item:?}");
    assert_eq!(stored(fix, c).customer_name, "测试甲");

    // A decided batch and a released hold are final, even written straight to the store.
    let mut rewritten = register_first(fix);
    rewritten.approved_by = Some(StaffId::parse("tel01").unwrap());
    assert!(fix
        .again()
        .transact(|tx| tx.update_purge_batch(&rewritten))
        .is_err());
    // The register is kept; the chain verifies after every purge; reports stay whole.
    let register = svc.purge_batches(&aud01).unwrap();
    assert_eq!(register.len(), 3);
    assert!(register
        .iter()
        .all(|b| b.state == PurgeBatchState::Approved));
    let v = svc.verify_audit(&aud01).unwrap();
    assert!(v.ok, "{v:?}");
    let actions: Vec<String> = audit(fix).into_iter().map(|(a, ..)| a).collect();
    for want in [
        "legal-hold-set",
        "legal-hold-released",
        "purge-prepared",
        "purge-approved",
        "purged",
    ] {
        assert!(actions.iter().any(|a| a == want), "{want} is audited");
    }
    assert!(
        actions.iter().filter(|a| *a == "purge-approve").count() >= 2,
        "the refused approvals are audited"
    );
    // Audit details never held a full C2 value.
    for (_, reason, detail, _) in audit(fix) {
        for full in [ID, "13123456789"] {
            assert!(!detail.contains(full) && !reason.contains(full));
        }
    }
    (a, b, c, d)
}

/// The newest batch of the register, read on another connection.
fn register_first<F: Fixture>(fix: &F) -> PurgeBatch {
    fix.again().read(|tx| tx.purge_batches()).unwrap().remove(0)
}

/// The scenario as a suite test.
pub fn retention_purge_is_four_eyes_spares_holds_and_leaves_tombstones<F: Fixture>(fix: &F) {
    retention_scenario(fix);
}

/// The console's filters, on every store: by staff, action, case, refused only, date range,
/// paging; the reveals report; the CSV export is audited.
pub fn audit_trail_filters_pages_and_reveals<F: Fixture>(fix: &F) {
    let clk = clock();
    let svc = svc(fix, clk.clone());
    let (tel01, tel02, _, _) = setup(&svc);
    let admin = svc.authenticate("admin", PW, "test").unwrap();
    let aud01 = add_person(&svc, &admin, "aud01", Role::Auditor);
    let c1 = identified_walk_in(&svc, &tel01);
    clk.set(Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap());
    let c2 = walk_in(&svc, &tel02);
    svc.reveal(&tel02, c2, RevealField::Phone, "callback asked")
        .unwrap();
    // A refused attempt.
    assert!(svc.retention_report(&tel02).is_err());

    let f = |g: auditor::AuditFilter| svc.search_audit(&aud01, &g).unwrap();
    let all = f(Default::default());
    assert!(
        all.events.windows(2).all(|w| w[0].seq > w[1].seq),
        "newest first"
    );
    let by = f(auditor::AuditFilter {
        staff_id: Some("TEL02".into()),
        ..Default::default()
    });
    assert!(!by.events.is_empty() && by.events.iter().all(|e| e.staff_id == "tel02"));
    let case1 = svc.case_view(&tel01, c1).unwrap().case.case_number;
    let by_case = f(auditor::AuditFilter {
        case: Some(case1.clone()),
        ..Default::default()
    });
    assert_eq!(
        by_case
            .events
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        ["verify-identity", "open-case"]
    );
    assert_eq!(by_case.case_numbers.get(&c1.to_string()), Some(&case1));
    let refused = f(auditor::AuditFilter {
        refused_only: true,
        ..Default::default()
    });
    assert!(!refused.events.is_empty());
    assert!(refused
        .events
        .iter()
        .all(|e| e.outcome == ports::Outcome::Refused));
    // Branch-local days: 2026-11-29 10:00 Shanghai holds c1's steps only.
    let day1 = f(auditor::AuditFilter {
        from: Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()),
        to: Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()),
        action: Some("open-case".into()),
        ..Default::default()
    });
    assert_eq!(day1.events.len(), 1);
    assert_eq!(day1.events[0].case_id, Some(c1));
    // Paging: one event a page until the end.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let p = f(auditor::AuditFilter {
            before,
            limit: Some(1),
            ..Default::default()
        });
        seen.extend(p.events.iter().map(|e| e.seq));
        match p.next {
            Some(n) => before = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, all.events.iter().map(|e| e.seq).collect::<Vec<_>>());
    // Bad filters name their field.
    for (g, field) in [
        (
            auditor::AuditFilter {
                from: Some(chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()),
                to: Some(chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
                ..Default::default()
            },
            "from",
        ),
        (
            auditor::AuditFilter {
                case: Some("T1-20990101-0001".into()),
                ..Default::default()
            },
            "case",
        ),
        (
            auditor::AuditFilter {
                action: Some("DROP TABLE".into()),
                ..Default::default()
            },
            "action",
        ),
        (
            auditor::AuditFilter {
                limit: Some(0),
                ..Default::default()
            },
            "limit",
        ),
    ] {
        let e = svc.search_audit(&aud01, &g).unwrap_err();
        assert_eq!(e.code, ErrorCode::Invalid);
        assert_eq!(e.fields[0].field, field, "{e:?}");
    }
    assert_eq!(
        svc.search_audit(&tel01, &Default::default())
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    // The reveals report: who, when, which case, which field, why.
    let r = svc.audit_reveals(&aud01, &Default::default()).unwrap();
    assert_eq!(r.reveals.len(), 1);
    let x = &r.reveals[0];
    assert_eq!((x.staff_id.as_str(), x.field.as_str()), ("tel02", "phone"));
    assert_eq!(x.case_id, Some(c2));
    assert_eq!(x.staff_name.as_deref(), Some("职员tel02"));
    assert_eq!(x.reason, "callback asked");
    // The export: CSV with a BOM, audited.
    let csv = svc.export_audit(&aud01, &Default::default()).unwrap();
    assert!(csv.starts_with("\u{feff}seq,".as_bytes()));
    let last = svc.search_audit(&aud01, &Default::default()).unwrap();
    assert_eq!(last.events[0].action, "audit-export");
}
