//! Synthetic demo cases (no real people) for tests, the demo example and the benchmark.
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use unlockdesk_core::model::*;
use unlockdesk_core::print::{application_view, receipt_view, CopyKind, PrintDocument};
use uuid::Uuid;

pub const FULL_ID: &str = "110105194912310021";
pub const FULL_PHONE: &str = "13123456789";
pub const FULL_CARD: &str = "6200000000000005";
pub const FULL_WALLET: &str = "0021000012345678";

fn rep(s: &str, n: usize) -> String {
    s.chars().cycle().take(n).collect()
}

pub fn branch(max: bool) -> Branch {
    Branch {
        code: if max { "SH0099".into() } else { "BJ001".into() },
        name: if max {
            rep(
                "示例银行上海浦东新区陆家嘴金融贸易区张江高科技园区支行营业部",
                50,
            )
        } else {
            "示例银行北京分行".into()
        },
        time_zone: "Asia/Shanghai".into(),
        online_check_required: true,
        agents_allowed: max,
        signed_scan_required: false,
        voucher_retention_years: 30,
        operator_connectors: None,
        idle_lock_minutes: 5,
        max_failed_logins: 5,
        extra_materials: vec![],
        bank_copy_unmasked: true,
        retention_years: 10,
        id_policy: Default::default(),
    }
}

/// A case at `unlocked`, with every field at its minimum (`max = false`) or maximum length.
pub fn case(max: bool) -> Case {
    let t = Utc.with_ymd_and_hms(2026, 3, 2, 1, 30, 0).unwrap();
    let teller = StaffId::parse("teller01").unwrap();
    let sup = StaffId::parse("sup01").unwrap();
    let name = if max {
        rep("欧阳慕容司马上官诸葛东方皇甫令狐独孤长孙宇文", 50)
    } else {
        "张三".to_string()
    };
    let latin = if max {
        rep("OUYANG MURONG SIMA SHANGGUAN ZHUGE DONGFANG ", 50)
            .trim_end()
            .to_string()
    } else {
        String::new()
    };
    let address = if max {
        rep("上海市浦东新区陆家嘴环路1000号示例大厦A座12楼1201室 Room 1201, Tower A, Example Building, 1000 Lujiazui Ring Road, Pudong New Area, Shanghai ", 200)
    } else {
        "北京市东城区示例路1号".to_string()
    };
    let reason = if max {
        rep("本人近期更换手机后多次输入错误密码导致钱包被锁定，无法完成日常支付和转账，现申请解锁。After changing phones I entered the wrong password several times and the wallet locked; I cannot pay or transfer, so I ask for it to be unlocked. ", 500)
    } else {
        "忘记密码".to_string()
    };
    let form = ApplicationForm {
        customer_name: name.clone(),
        customer_name_latin: latin,
        sex: Some(Sex::Male),
        nationality: if max {
            rep("中华人民共和国 People's Republic of China ", 40)
                .trim_end()
                .to_string()
        } else {
            "中国".into()
        },
        occupation: if max {
            rep(
                "软件工程师兼数据分析师及项目管理顾问 Software engineer and data analyst ",
                50,
            )
        } else {
            "职员".into()
        },
        address,
        phone: FULL_PHONE.into(),
        id_type: "prc-id".parse().unwrap(),
        id_number: FULL_ID.into(),
        id_valid_until: if max {
            "2036-12-31".into()
        } else {
            String::new()
        },
        agent: max.then(|| Agent {
            online_check: None,
            name: rep("司马上官令狐独孤长孙宇文慕容欧阳诸葛东方皇甫", 50),
            id_type: "passport-mrz".parse().unwrap(),
            id_number: "E12345678".into(),
            phone: "13987654321".into(),
            relationship: rep(
                "配偶（经公证授权委托） Spouse with notarised power of attorney ",
                40,
            ),
        }),
        wallet_operator: if max {
            rep(
                "示例数字钱包运营机构有限公司 Example Digital Wallet Operator Co., Ltd. ",
                50,
            )
        } else {
            "示例钱包".into()
        },
        wallet_id: if max {
            "0021000012345678901234567890ABCD".into()
        } else {
            FULL_WALLET.into()
        },
        wallet_class: if max {
            "二类钱包 Class 2 (named, bank-account linked)".into()
        } else {
            "3".into()
        },
        lock_cause: Some(LockCause::WrongPassword),
        requested_action: Some(RequestedAction::Unlock),
        reason,
        bank_card: FULL_CARD.into(),
        declaration_true: true,
        consent_query: true,
        risk_acknowledged: max,
        materials: if max {
            vec![
                "居民身份证原件 ID card (original)".into(),
                "银行卡 Bank card".into(),
                "钱包信息截图 Wallet screenshot".into(),
                "授权委托书（公证） Notarised power of attorney".into(),
                "代理人护照 Agent's passport".into(),
                "户口簿 Household register".into(),
            ]
        } else {
            vec![]
        },
    };
    Case {
        id: CaseId(Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef)),
        case_number: if max {
            "SH0099-20260302-0001".into()
        } else {
            "BJ001-20260302-0001".into()
        },
        state: CaseState::Unlocked,
        version: 9,
        appointment_id: None,
        customer_name: name,
        phone: FULL_PHONE.into(),
        lock_cause: Some(LockCause::WrongPassword),
        opened_by: teller.clone(),
        opened_at: t,
        updated_at: t,
        makers: vec![teller.clone()],
        identity: Some(IdentityRecord {
            kind: "prc-id".parse().unwrap(),
            number: FULL_ID.into(),
            name_on_document: "张三".into(),
            birth_date: None,
            expiry: None,
            name_matches: true,
            reference: None,
            needs_cocheck: max,
            checked_by: teller.clone(),
            checked_at: t,
            cochecked_by: max.then(|| sup.clone()),
            cochecked_at: max.then_some(t),
            minor: false,
            online_check: Some(OnlineCheck {
                result: OnlineCheckResult::Match,
                reference: if max {
                    "LWHC-2026-0302-000000000000000000000000000001".into()
                } else {
                    "LWHC-1".into()
                },
            }),
            second_factor: max.then(|| SecondFactorCheck {
                kind: unlockdesk_core::identity::policy::SecondFactor::FaceVerification,
                passed: true,
                score: Some(93),
                reference: "FACE-2026-0302-000000000001".into(),
            }),
            sex: None,
            nationality: "CHN".into(),
            name_latin: String::new(),
            long_term: false,
        }),
        form: Some(form),
        form_signed_at: Some(t),
        authorization: Some(Authorization {
            decision: Decision::Approve,
            supervisor: sup.clone(),
            reason_code: None,
            reason: if max {
                rep("材料齐全，身份核验无误，同意办理。Materials complete and identity verified; approved. ", 200)
            } else {
                String::new()
            },
            at: t,
        }),
        unlock: Some(UnlockRecord {
            operator_reference: if max {
                "OPR-2026-0302-000000000001-EXAMPLE".into()
            } else {
                "OP-1".into()
            },
            notified_via: NotificationChannel::InPerson,
            notified_at: t,
            confirmed_by: teller,
            authorized_by: sup,
            at: t,
        }),
        unlock_failures: vec![],
        form_revision: 1,
        prints: vec![],
        receipt_waiver: None,
        unlock_request: None,
        signed_scans: Vec::new(),
        purges: Vec::new(),
        operator_unlock: None,
        wallet_check: None,
        contacts: vec![],
        last_reason: String::new(),
    }
}

pub fn names(id: &StaffId) -> String {
    match id.as_str() {
        "teller01" => "王小明".into(),
        "sup01" => "李主管".into(),
        _ => String::new(),
    }
}

pub fn printed_at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 2, 5, 0).unwrap()
}

pub fn application(max: bool, copy: CopyKind) -> PrintDocument {
    PrintDocument::Application(
        application_view(&case(max), &branch(max), copy, printed_at(), &names).unwrap(),
    )
}

pub fn receipt(max: bool, copy: CopyKind) -> PrintDocument {
    PrintDocument::Receipt(
        receipt_view(&case(max), &branch(max), copy, printed_at(), &names).unwrap(),
    )
}
