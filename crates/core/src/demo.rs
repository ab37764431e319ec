//! Demo data (the CLI's `demo`, the app's "load demo data"): synthetic branch, staff, appointments
//! and cases, created through the real use
//! cases so the audit trail holds real events. Every person here is invented.

use crate::dto::{self as service, Credentials};
use crate::identity::mod11_2_check_char;
use crate::ports::Store;
use crate::print::{CopyKind, DocumentKind};
use crate::*;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use std::sync::Arc;

use crate::ports::FixedClock;
use serde_json::{json, Value};

use crate::error::CoreResult;
use crate::service::Service;

/// The password of every demo account (README lists it). Synthetic data only.
pub const DEMO_PASSWORD: &str = "Demo#Pass2026";

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗",
];
const GIVEN: &[&str] = &[
    "小明", "华", "伟", "洋", "静", "帆", "磊", "敏", "婷", "强", "芳", "杰", "娜", "涛", "丽",
    "军", "霞", "鹏", "雪", "宇",
];
const OPERATORS: &[&str] = &["数字人民币运营机构A", "钱包运营机构B", "支付平台C"];
const PROVINCES: &[&str] = &[
    "110105", "310104", "440305", "330106", "510107", "420106", "320102", "370202",
];

/// A small deterministic generator (SplitMix64): the same N gives the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A synthetic, check-digit-valid resident ID number.
fn synthetic_id(rng: &mut Rng, birth: NaiveDate) -> String {
    let body = format!(
        "{}{}{:03}",
        PROVINCES[rng.below(PROVINCES.len() as u64) as usize],
        birth.format("%Y%m%d"),
        rng.below(999) + 1
    );
    let check = mod11_2_check_char(&body).unwrap_or('0');
    format!("{body}{check}")
}

fn synthetic_phone(rng: &mut Rng) -> String {
    format!("1{}{:09}", 3 + rng.below(7), rng.below(1_000_000_000))
}

fn synthetic_name(rng: &mut Rng) -> String {
    format!(
        "{}{}",
        SURNAMES[rng.below(SURNAMES.len() as u64) as usize],
        GIVEN[rng.below(GIVEN.len() as u64) as usize]
    )
}

#[allow(clippy::too_many_arguments)]
fn appointment(
    id: uuid::Uuid,
    reference: String,
    name: String,
    phone: String,
    id_number: String,
    operator: &str,
    cause: LockCause,
    start: chrono::NaiveDateTime,
) -> Appointment {
    Appointment {
        id: AppointmentId(id),
        reference,
        name,
        phone,
        id_type: DocumentType::PrcId,
        id_number,
        wallet_operator: operator.into(),
        lock_cause: cause,
        slot_start: start,
        slot_end: start + Duration::minutes(30),
        notes: String::new(),
        status: AppointmentStatus::Waiting,
        case_id: None,
    }
}

/// Fill an empty store. Returns a JSON report (staff, cases, appointments).
pub(crate) fn load<S: Store>(svc: &Service<S>, extra_appointments: u64) -> CoreResult<Value> {
    if svc.is_set_up()? {
        return Err(CoreError::new(
            ErrorCode::AlreadySetUp,
            "demo data needs an empty store: use a new database (--db or UNLOCKDESK_DATA_DIR)",
        ));
    }
    let terminal = "demo";
    // The branch opened three days ago: its earlier days are recorded through the real steps
    // at a demo clock set to those days (the trail stays in time order), today's at the real
    // clock. The branch's zone is the demo's own.
    let today = svc.now().with_timezone(&DEMO_TZ).date_naive();
    let clock = Arc::new(FixedClock::new(local(today - Duration::days(3), 8, 30)));
    let early = svc.at_clock(clock.clone());
    early.setup(
        &service::SetupInput {
            branch_code: "DEMO".into(),
            branch_name: "演示支行 Demo Branch".into(),
            time_zone: "Asia/Shanghai".into(),
            admin_id: "admin".into(),
            admin_name: "系统管理员".into(),
            admin_password: DEMO_PASSWORD.into(),
        },
        terminal,
    )?;
    let admin = early.authenticate_actor("admin", DEMO_PASSWORD, terminal)?;
    let staff = [
        ("tel01", "柜员一 Teller One", Role::Teller),
        ("tel02", "柜员二 Teller Two", Role::Teller),
        ("sup01", "主管一 Supervisor One", Role::Supervisor),
        ("sup02", "主管二 Supervisor Two", Role::Supervisor),
        ("aud01", "审计一 Auditor One", Role::Auditor),
    ];
    for (id, name, role) in staff {
        early.add_staff(
            &admin,
            &service::NewStaff {
                id: id.into(),
                name: name.into(),
                role,
                password: "Demo#Temp2026".into(),
            },
        )?;
        early.change_password(id, "Demo#Temp2026", DEMO_PASSWORD, terminal)?;
    }
    let tel01 = early.authenticate_actor("tel01", DEMO_PASSWORD, terminal)?;
    let tel02 = early.authenticate_actor("tel02", DEMO_PASSWORD, terminal)?;
    let sup01 = Credentials {
        staff_id: "sup01".into(),
        password: DEMO_PASSWORD.into(),
    };
    let earlier = earlier_days(&early, &clock, today, &admin, &tel01, &tel02, &sup01)?;

    // Today's appointments.
    let mut rng = Rng(20_261_129);
    let mut todays = Vec::new();
    for i in 0..8u32 {
        let start =
            today.and_time(NaiveTime::from_hms_opt(9 + i / 2, (i % 2) * 30, 0).unwrap_or_default());
        let birth = NaiveDate::from_ymd_opt(
            1960 + rng.below(45) as i32,
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
        )
        .unwrap_or(NaiveDate::MIN);
        let cause = match i {
            5 => LockCause::AuthorityFreeze,
            _ => LockCause::ALL[(i as usize) % 4],
        };
        let a = appointment(
            svc.uuid(),
            format!("APT{}{:03}", today.format("%Y%m%d"), i + 1),
            synthetic_name(&mut rng),
            synthetic_phone(&mut rng),
            synthetic_id(&mut rng, birth),
            OPERATORS[i as usize % OPERATORS.len()],
            cause,
            start,
        );
        svc.add_appointment(&admin, &a)?;
        todays.push(a);
    }

    let form_for = |a: &Appointment| ApplicationForm {
        customer_name: a.name.clone(),
        sex: Some(Sex::Unspecified),
        nationality: "中国 CHN".into(),
        occupation: "职员".into(),
        address: "北京市东城区演示路1号".into(),
        phone: a.phone.clone(),
        id_type: DocumentType::PrcId,
        id_number: a.id_number.clone(),
        id_valid_until: "long-term".into(),
        agent: None,
        wallet_operator: a.wallet_operator.clone(),
        wallet_id: format!("0099{}", &a.phone[3..]),
        wallet_class: "2".into(),
        lock_cause: Some(a.lock_cause),
        requested_action: Some(RequestedAction::Unlock),
        reason: "多次输入错误密码被锁定".into(),
        declaration_true: true,
        consent_query: true,
        risk_acknowledged: true,
        materials: vec![
            "id-document".into(),
            "bank-account".into(),
            "wallet-details".into(),
        ],
        ..Default::default()
    };
    let identity_for = |a: &Appointment| service::IdentityInput {
        kind: "prc-id".into(),
        number: a.id_number.clone(),
        mrz_line2: String::new(),
        name_on_document: a.name.clone(),
        reference: String::new(),
        valid_until: "long-term".into(),
        online_check: Some(OnlineCheck {
            result: OnlineCheckResult::Match,
            reference: format!("LWHC-{}", &a.reference),
        }),
        second_factor: None,
    };
    // Where the counter prints: the demo hands the copies out as files (no printer here).
    let print = |actor: &Actor, c: CaseId, kind: DocumentKind| -> CoreResult<()> {
        let doc = svc.print_document(actor, c, kind, CopyKind::Bank)?;
        svc.record_delivery(
            actor,
            c,
            &doc.id,
            &service::PrintDelivery {
                channel: PrintChannel::File,
                printer: None,
                job_id: None,
                outcome: PrintOutcome::Completed,
                message: String::new(),
            },
        )?;
        Ok(())
    };
    let open = |actor: &Actor, a: &Appointment| {
        svc.open_case(
            actor,
            &service::OpenCaseInput {
                appointment_id: Some(a.id),
                ..Default::default()
            },
            None,
        )
    };

    // 1. closed: the whole path, tel01 then sup01.
    let a = &todays[0];
    let c = open(&tel01, a)?.case.id;
    svc.verify_identity(&tel01, c, &identity_for(a), None)?;
    svc.record_form(&tel01, c, &form_for(a), None)?;
    print(&tel01, c, DocumentKind::Application)?;
    svc.confirm_signed(&tel01, c, None)?;
    svc.submit(&tel01, c, None)?;
    svc.authorize(&tel01, c, &sup01, Decision::Approve, None, "", None)?;
    svc.log_contact(
        &tel01,
        c,
        &service::ContactInput {
            channel: ContactChannel::OperatorPortal,
            ticket: format!("OPS-{}-01", today.format("%Y%m%d")),
            result: "运营机构已解锁".into(),
        },
        None,
    )?;
    svc.confirm_unlock(
        &tel01,
        c,
        &sup01,
        &service::UnlockInput {
            operator_reference: format!("OPS-{}-01", today.format("%Y%m%d")),
            notified_via: NotificationChannel::InPerson,
        },
        None,
    )?;
    print(&tel01, c, DocumentKind::Receipt)?;
    svc.close_case(&tel01, c, None, None)?;
    // 2. submitted, waiting for a supervisor.
    let a = &todays[1];
    let c = open(&tel02, a)?.case.id;
    svc.verify_identity(&tel02, c, &identity_for(a), None)?;
    svc.record_form(&tel02, c, &form_for(a), None)?;
    print(&tel02, c, DocumentKind::Application)?;
    svc.confirm_signed(&tel02, c, None)?;
    svc.submit(&tel02, c, None)?;
    // 3. an authority-ordered freeze, refused at check-in.
    open(&tel01, &todays[5])?;
    // 4. identity verified, form next.
    let a = &todays[2];
    let c = open(&tel02, a)?.case.id;
    svc.verify_identity(&tel02, c, &identity_for(a), None)?;
    // 5. listed first: form recorded, waiting for the signature.
    let a = &todays[3];
    let c = open(&tel01, a)?.case.id;
    svc.verify_identity(&tel01, c, &identity_for(a), None)?;
    svc.record_form(&tel01, c, &form_for(a), None)?;

    let generated = if extra_appointments > 0 {
        bulk_appointments(svc, extra_appointments, today)?
    } else {
        0
    };
    Ok(json!({
        "branch": "DEMO",
        "staff": ["admin", "tel01", "tel02", "sup01", "sup02", "aud01"],
        "password": "see README (demo accounts)",
        "appointments_today": todays.len(),
        "appointments_generated": generated,
        "cases": 5 + earlier,
        "cases_earlier_days": earlier,
    }))
}

/// The demo branch's zone (its set-up names it).
const DEMO_TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// `day` at `hour:minute` in the demo branch's zone, as an instant.
fn local(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let t = day.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default());
    DEMO_TZ
        .from_local_datetime(&t)
        .earliest()
        .map_or_else(|| Utc.from_utc_datetime(&t), |l| l.with_timezone(&Utc))
}

/// The branch's three earlier days, each step at its own minute of the demo clock: finished
/// cases (closed, cancelled, rejected) and three left open (identity verified, returned for
/// information, unlocked without its receipt), for the past-case browser. Returns how many.
fn earlier_days<S: Store>(
    svc: &Service<S>,
    clock: &FixedClock,
    today: NaiveDate,
    admin: &Actor,
    tel01: &Actor,
    tel02: &Actor,
    sup01: &Credentials,
) -> CoreResult<usize> {
    // Its own generator: today's appointments stay the ones the e2e specs know.
    let mut rng = Rng(20_261_126);
    let day = |n: i64| today - Duration::days(n);
    // The clock at `hour:minute` of the day `n` days ago; each step then one minute later.
    let at = |n: i64, hour: u32, minute: u32| clock.set(local(day(n), hour, minute));
    let tick = || clock.advance(Duration::minutes(2));
    let person = |rng: &mut Rng| {
        let birth = NaiveDate::from_ymd_opt(
            1955 + rng.below(50) as i32,
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
        )
        .unwrap_or(NaiveDate::MIN);
        (
            synthetic_name(rng),
            synthetic_phone(rng),
            synthetic_id(rng, birth),
        )
    };
    let walk_in = |teller: &Actor, (name, phone, _): &(String, String, String)| {
        tick();
        svc.open_case(
            teller,
            &service::OpenCaseInput {
                customer_name: name.clone(),
                phone: phone.clone(),
                lock_cause: Some(LockCause::WrongPassword),
                ..Default::default()
            },
            None,
        )
        .map(|v| v.case.id)
    };
    let identity = |teller: &Actor, c: CaseId, (name, _, idn): &(String, String, String)| {
        tick();
        svc.verify_identity(
            teller,
            c,
            &service::IdentityInput {
                kind: "prc-id".into(),
                number: idn.clone(),
                name_on_document: name.clone(),
                valid_until: "long-term".into(),
                online_check: Some(OnlineCheck {
                    result: OnlineCheckResult::Match,
                    reference: format!("LWHC-{}", &idn[idn.len() - 6..]),
                }),
                ..Default::default()
            },
            None,
        )
    };
    let print = |teller: &Actor, c: CaseId, kind: DocumentKind| -> CoreResult<()> {
        tick();
        let doc = svc.print_document(teller, c, kind, CopyKind::Bank)?;
        svc.record_delivery(
            teller,
            c,
            &doc.id,
            &service::PrintDelivery {
                channel: PrintChannel::File,
                printer: None,
                job_id: None,
                outcome: PrintOutcome::Completed,
                message: String::new(),
            },
        )?;
        Ok(())
    };
    // Identity, form (operator `operator`), the printed form signed, submitted.
    let submitted = |teller: &Actor, p: &(String, String, String), operator: &str| {
        let c = walk_in(teller, p)?;
        identity(teller, c, p)?;
        tick();
        svc.record_form(
            teller,
            c,
            &ApplicationForm {
                customer_name: p.0.clone(),
                sex: Some(if p.2.as_bytes()[16] % 2 == 1 {
                    Sex::Male
                } else {
                    Sex::Female
                }),
                nationality: "中国 CHN".into(),
                occupation: "职员".into(),
                address: "北京市东城区演示路2号".into(),
                phone: p.1.clone(),
                id_type: DocumentType::PrcId,
                id_number: p.2.clone(),
                id_valid_until: "long-term".into(),
                wallet_operator: operator.into(),
                wallet_id: format!("0099{}", &p.1[3..]),
                wallet_class: "2".into(),
                lock_cause: Some(LockCause::WrongPassword),
                requested_action: Some(RequestedAction::Unlock),
                reason: "多次输入错误密码被锁定".into(),
                declaration_true: true,
                consent_query: true,
                risk_acknowledged: true,
                materials: vec![
                    "id-document".into(),
                    "bank-account".into(),
                    "wallet-details".into(),
                ],
                ..Default::default()
            },
            None,
        )?;
        print(teller, c, DocumentKind::Application)?;
        tick();
        svc.confirm_signed(teller, c, None)?;
        tick();
        svc.submit(teller, c, None)?;
        Ok::<CaseId, CoreError>(c)
    };
    let decide = |teller: &Actor, c: CaseId, d: Decision, code: Option<ReasonCode>, why: &str| {
        tick();
        svc.authorize(teller, c, sup01, d, code, why, None)
    };
    let unlocked = |teller: &Actor, c: CaseId, ticket: &str| -> CoreResult<()> {
        decide(teller, c, Decision::Approve, None, "")?;
        tick();
        svc.log_contact(
            teller,
            c,
            &service::ContactInput {
                channel: ContactChannel::OperatorPortal,
                ticket: ticket.into(),
                result: "运营机构已解锁".into(),
            },
            None,
        )?;
        tick();
        svc.confirm_unlock(
            teller,
            c,
            sup01,
            &service::UnlockInput {
                operator_reference: ticket.into(),
                notified_via: NotificationChannel::InPerson,
            },
            None,
        )?;
        Ok(())
    };

    // Three days ago: one closed, one cancelled.
    at(3, 9, 10);
    let p = person(&mut rng);
    let c = submitted(tel01, &p, OPERATORS[0])?;
    unlocked(tel01, c, &format!("OPS-{}-01", day(3).format("%Y%m%d")))?;
    print(tel01, c, DocumentKind::Receipt)?;
    tick();
    svc.close_case(tel01, c, None, None)?;
    at(3, 14, 40);
    let c = walk_in(tel02, &person(&mut rng))?;
    tick();
    svc.cancel_case(
        tel02,
        c,
        "客户未带身份证件 / no ID document with them",
        None,
    )?;

    // Two days ago: a booked customer left after the identity check; one rejected.
    at(2, 8, 45);
    let (name, phone, idn) = person(&mut rng);
    let booking = appointment(
        svc.uuid(),
        format!("APT{}{:03}", day(2).format("%Y%m%d"), 1),
        name.clone(),
        phone.clone(),
        idn.clone(),
        OPERATORS[1],
        LockCause::SelfLocked,
        day(2).and_time(NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default()),
    );
    svc.add_appointment(admin, &booking)?;
    at(2, 10, 5);
    let c = svc
        .open_case(
            tel02,
            &service::OpenCaseInput {
                appointment_id: Some(booking.id),
                ..Default::default()
            },
            None,
        )?
        .case
        .id;
    identity(tel02, c, &(name, phone, idn))?;
    at(2, 15, 20);
    let c = submitted(tel01, &person(&mut rng), OPERATORS[2])?;
    decide(
        tel01,
        c,
        Decision::Reject,
        Some(ReasonCode::SuspectedFraud),
        "疑似冒名 / suspected impersonation",
    )?;

    // Yesterday: one returned for information, one unlocked whose receipt was never printed.
    at(1, 11, 30);
    let c = submitted(tel01, &person(&mut rng), OPERATORS[0])?;
    decide(
        tel01,
        c,
        Decision::ReturnForInfo,
        Some(ReasonCode::MaterialsMissing),
        "缺钱包绑定手机截图 / wallet details missing",
    )?;
    at(1, 16, 10);
    let c = submitted(tel02, &person(&mut rng), OPERATORS[1])?;
    unlocked(tel02, c, &format!("OPS-{}-02", day(1).format("%Y%m%d")))?;
    Ok(6)
}

/// N synthetic appointments spread over three years before today and a month after, in one
/// transaction (one audit event records the generation).
fn bulk_appointments<S: Store>(svc: &Service<S>, n: u64, today: NaiveDate) -> CoreResult<u64> {
    let mut rng = Rng(n ^ 0x5EED);
    let start_day = today - Duration::days(3 * 365);
    let span = 3 * 365 + 30;
    let now = svc.now();
    svc.store.transact(|tx| {
        for i in 0..n {
            let day = start_day + Duration::days(rng.below(span) as i64);
            let t = NaiveTime::from_hms_opt(9 + rng.below(8) as u32, (rng.below(4) * 15) as u32, 0)
                .unwrap_or_default();
            let birth = NaiveDate::from_ymd_opt(
                1940 + rng.below(65) as i32,
                1 + rng.below(12) as u32,
                1 + rng.below(28) as u32,
            )
            .unwrap_or(NaiveDate::MIN);
            let mut a = appointment(
                uuid::Uuid::from_u64_pair(rng.next(), rng.next()),
                format!("GEN{:08}", i + 1),
                synthetic_name(&mut rng),
                synthetic_phone(&mut rng),
                synthetic_id(&mut rng, birth),
                OPERATORS[rng.below(OPERATORS.len() as u64) as usize],
                LockCause::ALL[rng.below(5) as usize],
                day.and_time(t),
            );
            if day < today {
                a.status = if rng.below(10) == 0 {
                    AppointmentStatus::NoShow
                } else {
                    AppointmentStatus::Done
                };
            }
            tx.insert_appointment(&a)?;
        }
        tx.append_audit(&crate::service::draft(
            now,
            &StaffId::system("demo"),
            None,
            "demo",
            None,
            "demo-appointments",
            None,
            None,
            "",
            crate::ports::Outcome::Ok,
            &format!("{{\"count\":{n}}}"),
        ))?;
        Ok(())
    })?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;
    use crate::ports::{CaseQuery, OsEntropy};
    use crate::print::{PrintDocument, Renderer};

    struct TextRenderer;
    impl Renderer for TextRenderer {
        fn render(&self, doc: &PrintDocument) -> CoreResult<Vec<u8>> {
            Ok(format!("{doc:?}").into_bytes())
        }
    }

    /// The demo's three earlier days: six cases through the real steps, three left open
    /// (identity verified, returned for information, unlocked without its receipt), and the
    /// whole trail in time order although the earlier days were recorded first.
    #[test]
    fn earlier_days_hold_six_cases_three_left_open_and_the_trail_is_in_time_order() {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).unwrap();
        let svc = Service::new(
            MemoryStore::default(),
            Arc::new(FixedClock::new(now)),
            Arc::new(OsEntropy),
        )
        .with_renderer(Arc::new(TextRenderer));
        let first = crate::Counter::first_run_actor(&svc, "t").unwrap();
        let report = svc.load_demo(&first, 0).unwrap();
        assert_eq!(report["cases_earlier_days"], 6);
        let aud = crate::Counter::authenticate(&svc, "aud01", DEMO_PASSWORD, "t").unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let page = svc
            .list_cases(
                &aud,
                &CaseQuery {
                    from: Some(today - Duration::days(30)),
                    ..Default::default()
                },
            )
            .unwrap();
        let earlier: Vec<_> = page.cases.iter().filter(|c| c.opened_day < today).collect();
        assert_eq!(earlier.len(), 6);
        let days: std::collections::BTreeSet<_> = earlier.iter().map(|c| c.opened_day).collect();
        assert_eq!(days.len(), 3, "{days:?}");
        let mut open: Vec<CaseState> = earlier
            .iter()
            .filter(|c| c.open_from_earlier_day)
            .map(|c| c.state)
            .collect();
        open.sort();
        assert_eq!(
            open,
            vec![
                CaseState::IdentityVerified,
                CaseState::ReturnedForInfo,
                CaseState::Unlocked
            ]
        );
        let trail = svc.store.read(|tx| tx.audit_events(1, 100_000)).unwrap();
        assert!(trail.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(svc.store.verify_audit().unwrap().ok);
    }
}
