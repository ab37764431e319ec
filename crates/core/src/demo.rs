//! Demo data (the CLI's `demo`, the app's "load demo data"): synthetic branch, staff, appointments
//! and cases, created through the real use
//! cases so the audit trail holds real events. Every person here is invented.

use crate::dto::{self as service, Credentials};
use crate::identity::mod11_2_check_char;
use crate::ports::Store;
use crate::print::{CopyKind, DocumentKind};
use crate::*;
use chrono::{Duration, NaiveDate, NaiveTime};
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
    svc.setup(
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
    let admin = svc.authenticate_actor("admin", DEMO_PASSWORD, terminal)?;
    let staff = [
        ("tel01", "柜员一 Teller One", Role::Teller),
        ("tel02", "柜员二 Teller Two", Role::Teller),
        ("sup01", "主管一 Supervisor One", Role::Supervisor),
        ("sup02", "主管二 Supervisor Two", Role::Supervisor),
        ("aud01", "审计一 Auditor One", Role::Auditor),
    ];
    for (id, name, role) in staff {
        svc.add_staff(
            &admin,
            &service::NewStaff {
                id: id.into(),
                name: name.into(),
                role,
                password: "Demo#Temp2026".into(),
            },
        )?;
        svc.change_password(id, "Demo#Temp2026", DEMO_PASSWORD, terminal)?;
    }
    let tel01 = svc.authenticate_actor("tel01", DEMO_PASSWORD, terminal)?;
    let tel02 = svc.authenticate_actor("tel02", DEMO_PASSWORD, terminal)?;
    let sup01 = Credentials {
        staff_id: "sup01".into(),
        password: DEMO_PASSWORD.into(),
    };

    // Today's appointments.
    let today = svc.today()?;
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
        reason: "多次输入错误密码被锁定 / locked after wrong passwords".into(),
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
            ticket: "OPS-20261129-01".into(),
            result: "unlock done".into(),
        },
        None,
    )?;
    svc.confirm_unlock(
        &tel01,
        c,
        &sup01,
        &service::UnlockInput {
            operator_reference: "OPS-20261129-01".into(),
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
        "cases": 5,
    }))
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
