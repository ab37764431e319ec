use super::*;

pub fn import_is_idempotent_audited_and_keeps_checked_in_links<F: Fixture>(fix: &F) {
    let svc = service(fix);
    let tel01 = svc.authenticate("tel01", PW, "t").unwrap();

    let r = svc
        .import_appointments(
            &import_actor(&svc),
            &rows(&book()),
            "/exports/book-13912345671.csv",
        )
        .unwrap();
    assert_eq!(
        r,
        ImportReport {
            imported: 3,
            updated: 0,
            unchanged: 0,
            rejected: vec![]
        }
    );
    let r = svc
        .import_appointments(&import_actor(&svc), &rows(&book()), "book.csv")
        .unwrap();
    assert_eq!(
        r,
        ImportReport {
            imported: 0,
            updated: 0,
            unchanged: 3,
            rejected: vec![]
        }
    );

    // Check in R-1: it gets a case; a changed row must keep the link and the status.
    let found = svc.find_appointments(&reader(&svc), "R-1").unwrap();
    let case = svc
        .open_case(
            &tel01,
            &OpenCaseInput {
                appointment_id: Some(found[0].id),
                ..Default::default()
            },
            None,
        )
        .unwrap();
    let before = svc.find_appointments(&reader(&svc), "R-1").unwrap()[0].status;
    assert_ne!(before, AppointmentStatus::Waiting);
    let mut changed = book();
    changed[0] = changed[0]
        .replace("13912345671", "13912345679")
        .replace("09:30", "09:45");
    changed[2] = changed[2].replace("李娜", "李娜娜");
    let r = svc
        .import_appointments(&tel01, &rows(&changed), "book.csv")
        .unwrap();
    assert_eq!(
        r,
        ImportReport {
            imported: 0,
            updated: 2,
            unchanged: 1,
            rejected: vec![]
        }
    );
    let a = &svc.find_appointments(&reader(&svc), "R-1").unwrap()[0];
    assert_eq!(a.status, before);
    assert_eq!(a.case_id, Some(case.case.id));
    assert_eq!(a.phone, "139****5679");

    let events = audit(fix);
    let imports: Vec<_> = events
        .iter()
        .filter(|e| e.0 == "appointment-import")
        .collect();
    assert_eq!(imports.len(), 3, "one summary event per file");
    assert!(imports[0].2.contains("\"imported\":3"), "{}", imports[0].2);
    let updates: Vec<_> = events
        .iter()
        .filter(|e| e.0 == "appointment-update")
        .collect();
    assert_eq!(updates.len(), 2, "one event per updated row");
    assert!(
        updates[0]
            .2
            .contains("\"changed\":[\"phone\",\"slot_end\"]"),
        "{}",
        updates[0].2
    );
    assert_eq!(
        updates[0].3.as_deref(),
        Some(case.case.id.to_string().as_str()),
        "the update shows in the case history"
    );
    for e in &events {
        for secret in ["13912345671", "13912345679", "110105198001011"] {
            assert!(
                !e.1.contains(secret) && !e.2.contains(secret),
                "C2 value in audit: {e:?}"
            );
        }
    }
    assert!(svc.verify_audit(&reader(&svc)).unwrap().ok);

    // The name-prefix table follows the rename (trigger): the new name is found, and 李娜's
    // old exact name still finds 李娜娜 as a prefix.
    assert_eq!(
        svc.find_appointments(&reader(&svc), "李娜娜").unwrap()[0].reference,
        "R-3"
    );
    assert_eq!(svc.find_appointments(&reader(&svc), "李").unwrap().len(), 1);
    // Prefix 张伟: both, today's first.
    let refs: Vec<_> = svc
        .find_appointments(&reader(&svc), "张伟")
        .unwrap()
        .into_iter()
        .map(|a| a.reference)
        .collect();
    assert_eq!(refs, vec!["R-1", "R-2"]);
    // A 15-digit legacy number finds the stored 18-digit form.
    let b = id("31010419750505456");
    let legacy = format!("{}{}", &b[..6], &b[8..17]);
    assert_eq!(
        svc.find_appointments(&reader(&svc), &legacy).unwrap()[0].reference,
        "R-2"
    );
}

pub fn file_errors_import_nothing_and_permissions<F: Fixture>(fix: &F) {
    let svc = service(fix);
    let e = svc
        .import_appointments(&import_actor(&svc), b"ref,name\nR-1,x\n", "bad.csv")
        .unwrap_err();
    assert_eq!(
        (e.code, e.fields[0].field.as_str()),
        (ErrorCode::Invalid, "header")
    );
    assert!(svc
        .find_appointments(&reader(&svc), "R-1")
        .unwrap()
        .is_empty());

    let auditor = svc.authenticate("aud01", PW, "t").unwrap();
    assert_eq!(
        svc.import_appointments(&auditor, &rows(&book()), "b.csv")
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let cli = reader(&svc);
    assert_eq!(
        svc.import_appointments(&cli, &rows(&book()), "b.csv")
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    assert!(
        svc.find_appointments(&reader(&svc), "R-1")
            .unwrap()
            .is_empty(),
        "a refused import writes nothing"
    );
}

pub fn no_shows_at_end_of_day<F: Fixture>(fix: &F) {
    let svc = service(fix);
    let tel01 = svc.authenticate("tel01", PW, "t").unwrap();
    svc.import_appointments(&import_actor(&svc), &rows(&book()), "b.csv")
        .unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    assert_eq!(svc.mark_no_shows(&tel01, day).unwrap(), 2);
    assert_eq!(svc.mark_no_shows(&tel01, day).unwrap(), 0, "already marked");
    assert_eq!(
        svc.find_appointments(&reader(&svc), "R-2").unwrap()[0].status,
        AppointmentStatus::NoShow
    );
    assert_eq!(
        svc.find_appointments(&reader(&svc), "R-1").unwrap()[0].status,
        AppointmentStatus::Waiting
    );
    let e = svc
        .mark_no_shows(&tel01, day + chrono::Duration::days(2))
        .unwrap_err();
    assert_eq!(e.fields[0].rule, "future-date");
    let auditor = svc.authenticate("aud01", PW, "t").unwrap();
    assert_eq!(
        svc.mark_no_shows(&auditor, day).unwrap_err().code,
        ErrorCode::Forbidden
    );
    let events = audit(fix);
    let marks: Vec<_> = events
        .iter()
        .filter(|e| e.0 == "appointment-no-shows")
        .collect();
    assert_eq!(marks.len(), 2);
    assert_eq!(marks[0].2, "{\"day\":\"2026-11-28\",\"count\":2}");
}

pub fn check_in_verifies_the_booked_document<F: Fixture>(fix: &F) {
    let svc = service(fix);
    svc.import_appointments(&import_actor(&svc), &rows(&book()), "book.csv")
        .unwrap();
    let tel01 = svc.authenticate("tel01", PW, "test").unwrap();
    let check_in = |reference: &str| {
        let found = svc.find_appointments(&reader(&svc), reference).unwrap();
        svc.open_case(
            &tel01,
            &OpenCaseInput {
                appointment_id: Some(found[0].id),
                ..Default::default()
            },
            None,
        )
        .unwrap()
        .case
        .id
    };
    let verify = |c: CaseId, number: &str, name: &str| {
        svc.verify_identity(
            &tel01,
            c,
            &IdentityInput {
                kind: "prc-id".into(),
                online_check: Some(OnlineCheck {
                    result: OnlineCheckResult::Match,
                    reference: "LWHC-T1".into(),
                }),
                number: number.into(),
                name_on_document: name.into(),
                valid_until: "long-term".into(),
                ..Default::default()
            },
            None,
        )
    };
    // R-1 was booked with a full number: another valid number is refused.
    let c1 = check_in("R-1");
    let other = id("11010519800101145");
    let e = verify(c1, &other, "张伟").unwrap_err();
    assert_eq!(e.fields[0].field, "number");
    assert_eq!(e.fields[0].rule, "appointment-mismatch");
    assert_eq!(
        svc.case_view(&tel01, c1).unwrap().case.state,
        CaseState::CheckedIn
    );
    verify(c1, &id("11010519800101123"), "张伟").unwrap();
    // R-3 was booked with the last 4 only (002X): a number ending otherwise is refused.
    let c3 = check_in("R-3");
    let e = verify(c3, &id("11010519491231003"), "李娜").unwrap_err();
    assert_eq!(e.fields[0].rule, "appointment-mismatch");
    verify(c3, "11010519491231002x", "李娜").unwrap();
}
