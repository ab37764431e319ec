//! The past-case browser's query on every store: a range of branch-local opening days, states,
//! the opening teller, the wallet operator, newest first, page by page, and the flag of a case
//! left open from an earlier day.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use unlockdesk_core::dto::*;
use unlockdesk_core::ports::{CaseCursor, CaseQuery, FixedClock};
use unlockdesk_core::*;

use crate::*;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// `YYYY-MM-DD HH:MM` in Shanghai (the branch's zone) as the instant the clock shows.
fn at(clock: &FixedClock, local: &str) {
    let t = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
    clock.set(Utc.from_utc_datetime(&(t - Duration::hours(8))));
}

/// A walk-in of `name` with a phone ending in `tail` (4 digits).
fn walk_in_named(svc: &dyn Counter, teller: &Actor, name: &str, tail: &str) -> CaseView {
    svc.open_case(
        teller,
        &OpenCaseInput {
            customer_name: name.into(),
            phone: format!("1312345{tail}"),
            lock_cause: Some(LockCause::WrongPassword),
            ..Default::default()
        },
        None,
    )
    .unwrap()
}

fn numbers(p: &CasePage) -> Vec<String> {
    p.cases.iter().map(|c| c.case_number.clone()).collect()
}

/// Cases over four branch-local days: the range is of opening days in the branch's zone (a
/// case opened at 00:10 belongs to that day, though UTC still says the day before), rows come
/// newest first (day, time, case number) and pages continue exactly where the last ended;
/// states, teller (any case of the id) and operator (the form's, before it the booking's)
/// narrow; a case opened before today and not finished is flagged, and the quick filter finds
/// exactly those; the openers' names come with the page; the filters' choices list the staff
/// who may open cases and every operator; a reversed or too long range names its field.
pub fn past_cases_by_range_state_teller_operator_in_pages<F: Fixture>(fix: &F) {
    let clock = clock();
    at(&clock, "2026-11-25 09:00");
    let svc = svc(fix, clock.clone());
    let (tel01, tel02, sup01, _) = setup(&svc);
    // 11-25: an appointment booked for operator B, checked in and left at checked-in; a walk-in
    // cancelled the same day.
    svc.import_appointments(
        &import_actor(&svc),
        &rows(&[format!(
            "P-1,王测试,13900001111,prc-id,{},B,self-locked,2026-11-25T09:00,2026-11-25T09:30,",
            id("11010519800101123")
        )]),
        "book.csv",
    )
    .unwrap();
    let appt = svc.appointments_today(&tel01).unwrap()[0].id;
    let booked = svc
        .open_case(
            &tel01,
            &OpenCaseInput {
                appointment_id: Some(appt),
                ..Default::default()
            },
            None,
        )
        .unwrap()
        .case;
    at(&clock, "2026-11-25 11:00");
    let cancelled = walk_in_named(&svc, &tel02, "测试乙", "0002").case;
    svc.cancel_case(&tel02, cancelled.id, "customer left", None)
        .unwrap();
    // 11-26: a submitted case with the form's operator (运营机构A), and one opened at 23:30.
    at(&clock, "2026-11-26 10:00");
    let submitted = to_submitted(&svc, &tel01);
    at(&clock, "2026-11-26 23:30");
    let late = walk_in_named(&svc, &tel02, "测试丙", "0003").case;
    // 11-27 00:10 in Shanghai is still 11-26 in UTC.
    at(&clock, "2026-11-27 00:10");
    let midnight = walk_in_named(&svc, &tel01, "测试丁", "0004").case;
    // 11-28: three walk-ins at one instant (the case number breaks the tie), one rejected.
    at(&clock, "2026-11-28 09:00");
    let same: Vec<CaseView> = (5..8)
        .map(|i| walk_in_named(&svc, &tel02, "测试戊", &format!("000{i}")))
        .collect();
    let rejected = to_submitted(&svc, &tel01);
    svc.authorize(
        &tel01,
        rejected,
        &sup01,
        Decision::Reject,
        Some(ReasonCode::SuspectedFraud),
        "",
        None,
    )
    .unwrap();
    // Today, 11-29.
    at(&clock, "2026-11-29 10:00");
    let today_case = walk_in_named(&svc, &tel01, "测试己", "0009").case;

    let list = |q: CaseQuery| svc.list_cases(&tel01, &q).unwrap();
    let range = |from: &str, to: &str| CaseQuery {
        from: Some(day(from)),
        to: Some(day(to)),
        ..Default::default()
    };
    let all = list(range("2026-11-01", "2026-11-29"));
    assert_eq!(all.today, day("2026-11-29"));
    assert_eq!(all.cases.len(), 10, "{:?}", numbers(&all));
    assert!(!all.more);
    // Newest first: by day, then time, then case number.
    let keys: Vec<(NaiveDate, chrono::DateTime<Utc>, String)> = all
        .cases
        .iter()
        .map(|c| (c.opened_day, c.opened_at, c.case_number.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(keys, sorted);
    assert_eq!(all.cases[0].id, today_case.id);
    let by_id = |id: CaseId| all.cases.iter().find(|c| c.id == id).unwrap().clone();
    assert_eq!(by_id(midnight.id).opened_day, day("2026-11-27"));
    assert_eq!(by_id(late.id).opened_day, day("2026-11-26"));

    // The days of the range are the branch's: 11-27 holds the 00:10 case, 11-26 the 23:30 one.
    let d27 = list(range("2026-11-27", "2026-11-27"));
    assert_eq!(numbers(&d27), vec![midnight.case_number.clone()]);
    let d26 = list(CaseQuery {
        day: Some(day("2026-11-26")),
        ..Default::default()
    });
    assert_eq!(d26.cases.len(), 2);
    assert_eq!(d26.cases[0].id, late.id, "23:30 before 10:00");

    // Left open from an earlier day: opened before today and not in a terminal state.
    let flagged: Vec<CaseId> = all
        .cases
        .iter()
        .filter(|c| c.open_from_earlier_day)
        .map(|c| c.id)
        .collect();
    let mut expected = vec![booked.id, submitted, late.id, midnight.id];
    expected.extend(same.iter().map(|v| v.case.id));
    assert_eq!(flagged.len(), expected.len(), "{flagged:?}");
    assert!(expected.iter().all(|c| flagged.contains(c)));
    assert!(!by_id(cancelled.id).open_from_earlier_day);
    assert!(!by_id(rejected).open_from_earlier_day);
    assert!(!by_id(today_case.id).open_from_earlier_day, "today's");
    let left_open = list(CaseQuery {
        open_from_earlier_day: true,
        ..range("2026-11-01", "2026-11-29")
    });
    assert_eq!(left_open.cases.len(), expected.len());
    assert!(left_open.cases.iter().all(|c| c.open_from_earlier_day));
    let left_open_checked_in = list(CaseQuery {
        states: vec![CaseState::CheckedIn, CaseState::Closed],
        open_from_earlier_day: true,
        ..range("2026-11-25", "2026-11-27")
    });
    assert_eq!(
        left_open_checked_in.cases.len(),
        3,
        "booked, late, midnight"
    );

    // States (any of), the opening teller (the id as typed), the operator.
    let ended = list(CaseQuery {
        states: vec![CaseState::Cancelled, CaseState::Rejected],
        ..range("2026-11-01", "2026-11-29")
    });
    assert_eq!(ended.cases.len(), 2);
    assert_eq!(ended.cases[0].id, rejected);
    let of_tel02 = list(CaseQuery {
        opened_by: Some(" TEL02 ".into()),
        ..range("2026-11-01", "2026-11-29")
    });
    assert_eq!(of_tel02.cases.len(), 5);
    assert!(of_tel02
        .cases
        .iter()
        .all(|c| c.opened_by.as_str() == "tel02"));
    assert_eq!(
        of_tel02.staff.get("tel02").map(String::as_str),
        Some("职员tel02")
    );
    assert!(
        !of_tel02.staff.contains_key("tel01"),
        "only the page's openers"
    );
    assert_eq!(
        by_id(booked.id).wallet_operator,
        "B",
        "the booking's, before the form"
    );
    assert_eq!(by_id(submitted).wallet_operator, "运营机构A", "the form's");
    assert_eq!(
        by_id(late.id).wallet_operator,
        "",
        "a walk-in without a form"
    );
    let op = |o: &str| {
        let p = list(CaseQuery {
            wallet_operator: Some(o.into()),
            ..range("2026-11-01", "2026-11-29")
        });
        p.cases.iter().map(|c| c.id).collect::<Vec<_>>()
    };
    assert_eq!(op("B"), vec![booked.id]);
    assert_eq!(op("运营机构A"), vec![rejected, submitted]);
    // A re-import moves the booking to operator B2 before any form: the case follows it (the
    // memory store reads the booking; the databases keep a copy that must be kept in step).
    let report = svc
        .import_appointments(
            &import_actor(&svc),
            &rows(&[format!(
                "P-1,王测试,13900001111,prc-id,{},B2,self-locked,2026-11-25T09:00,2026-11-25T09:30,",
                id("11010519800101123")
            )]),
            "book.csv",
        )
        .unwrap();
    assert_eq!(report.updated, 1, "{report:?}");
    assert!(op("B").is_empty(), "the old operator no longer finds it");
    assert_eq!(op("B2"), vec![booked.id]);
    let after_reimport = list(range("2026-11-01", "2026-11-29"));
    let reimported = after_reimport.cases.iter().find(|c| c.id == booked.id);
    assert_eq!(reimported.unwrap().wallet_operator, "B2");
    // The booked case's form names another operator: the form's replaces the booking's.
    svc.verify_identity(
        &tel01,
        booked.id,
        &IdentityInput {
            number: id("11010519800101123"),
            name_on_document: "王测试".into(),
            ..id_card()
        },
        None,
    )
    .unwrap();
    svc.record_form(
        &tel01,
        booked.id,
        &ApplicationForm {
            customer_name: "王测试".into(),
            phone: "13900001111".into(),
            id_number: id("11010519800101123"),
            sex: Some(Sex::Male),
            // A trailing blank, as a pasted value may bring: kept trimmed, so the filter finds it.
            wallet_operator: "运营机构C ".into(),
            ..form()
        },
        None,
    )
    .unwrap();
    assert!(op("B").is_empty());
    assert_eq!(op("运营机构C"), vec![booked.id]);

    // Pages of 2 over the whole range: every case once, in order, the last page says no more.
    let mut seen = Vec::new();
    let mut after: Option<CaseCursor> = None;
    loop {
        let p = list(CaseQuery {
            limit: Some(2),
            after: after.clone(),
            ..range("2026-11-01", "2026-11-29")
        });
        assert!(p.cases.len() <= 2);
        seen.extend(numbers(&p));
        assert_eq!(p.more, p.next.is_some());
        if !p.more {
            break;
        }
        after = p.next;
    }
    assert_eq!(seen, numbers(&all));

    // The filters' choices: who may open cases (not the administrator), every operator.
    let f = svc.case_filters(&tel02).unwrap();
    let ids: Vec<&str> = f.tellers.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, vec!["sup01", "sup02", "tel01", "tel02"]);
    assert_eq!(f.tellers[2].name, "职员tel01");
    assert_eq!(f.operators, vec!["运营机构A", "运营机构C"]);
    assert_eq!(f.today, day("2026-11-29"));

    // A reversed range, one longer than 366 days: refused, naming the field.
    let field = |q: CaseQuery| {
        let e = svc.list_cases(&tel01, &q).unwrap_err();
        assert_eq!(e.code, ErrorCode::Invalid);
        (e.fields[0].field.clone(), e.fields[0].rule.clone())
    };
    assert_eq!(
        field(range("2026-11-29", "2026-11-01")),
        ("to".into(), "range-order".into())
    );
    assert_eq!(
        field(range("2025-11-28", "2026-11-29")),
        ("from".into(), "span".into())
    );
    // An administrator does not read cases.
    let admin = svc.authenticate("admin", PW, "test").unwrap();
    assert_eq!(
        svc.list_cases(&admin, &CaseQuery::default())
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        svc.case_filters(&admin).unwrap_err().code,
        ErrorCode::Forbidden
    );
}
