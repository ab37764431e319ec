//! The simulator as a real process, a real embedded store, and synthetic cases.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use unlockdesk_core::operator::{OutboxKind, OutboxMessage, OutboxStatus};
use unlockdesk_core::ports::{OsEntropy, Store, SystemClock};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;
use unlockdesk_operator::{HttpConnectors, OperatorConfig};
use unlockdesk_store::SqliteStore;

/// `unlockdesk-operator-sim`, started with `args`, killed when dropped.
pub struct Sim {
    child: Child,
    pub url: String,
}

impl Sim {
    pub fn start(args: &[&str]) -> Sim {
        Self::start_on("127.0.0.1:0", args)
    }

    pub fn start_on(listen: &str, args: &[&str]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_unlockdesk-operator-sim"))
            .arg("--listen")
            .arg(listen)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the simulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("ready line");
        let url = line
            .trim()
            .strip_prefix("OPERATOR_SIM_READY ")
            .unwrap_or_else(|| panic!("not a ready line: {line:?}"))
            .to_string();
        Sim { child, url }
    }

    /// `GET /sim/ledger`.
    pub fn ledger(&self) -> serde_json::Value {
        ureq::get(&format!("{}/sim/ledger", self.url))
            .call()
            .expect("ledger")
            .into_json()
            .expect("ledger JSON")
    }

    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Short timeouts, so fault tests stay fast.
pub fn quick_config() -> OperatorConfig {
    OperatorConfig {
        connect_timeout: Duration::from_millis(300),
        total_timeout: Duration::from_millis(300),
        retries: 2,
        backoff: Duration::from_millis(10),
        failure_threshold: 5,
        cool_down: Duration::from_millis(100),
        token: None,
    }
}

pub type Svc = Service<SqliteStore>;

/// A service on the embedded store at `db` whose every operator is the simulator at `url`.
pub fn service(db: &std::path::Path, url: &str, config: OperatorConfig) -> Arc<Svc> {
    let store = SqliteStore::open(db).expect("open the store");
    Arc::new(
        Service::new(store, Arc::new(SystemClock), Arc::new(OsEntropy))
            .with_renderer(Arc::new(unlockdesk_conformance::TextRenderer))
            .with_connectors(Arc::new(HttpConnectors::new(Some(url.to_string()), config)))
            .with_outbox_lease(chrono::Duration::seconds(3)),
    )
}

/// The demo branch (staff `tel01`, `sup01`, …), no cases of ours yet.
pub fn set_up(svc: &Svc) {
    let first = svc.first_run_actor("test").expect("first run");
    svc.load_demo(&first, 0).expect("demo branch");
}

/// A synthetic case in `state`, approved by `sup01`, wallet `W{i:06}`, phone `1390000{i:04}`.
pub fn synthetic_case(i: usize, state: CaseState) -> Case {
    let now = Utc::now();
    let tel = StaffId::parse("tel01").expect("staff id");
    let sup = StaffId::parse("sup01").expect("staff id");
    let phone = format!("1390000{:04}", i % 10_000);
    Case {
        id: CaseId(uuid::Uuid::new_v4()),
        case_number: format!("SIM-{i:06}"),
        state,
        version: 1,
        appointment_id: None,
        customer_name: "测试客户".into(),
        phone: phone.clone(),
        lock_cause: Some(LockCause::WrongPassword),
        opened_by: tel.clone(),
        opened_at: now,
        updated_at: now,
        makers: vec![tel],
        identity: None,
        form: Some(ApplicationForm {
            customer_name: "测试客户".into(),
            nationality: "CHN".into(),
            phone,
            wallet_operator: "SimPay".into(),
            wallet_id: format!("W{i:06}"),
            ..Default::default()
        }),
        form_signed_at: Some(now),
        authorization: Some(Authorization {
            decision: Decision::Approve,
            supervisor: sup,
            reason_code: None,
            reason: String::new(),
            at: now,
        }),
        unlock: None,
        unlock_failures: Vec::new(),
        contacts: Vec::new(),
        last_reason: String::new(),
        form_revision: 1,
        prints: Vec::new(),
        receipt_waiver: None,
        unlock_request: None,
        signed_scans: Vec::new(),
        purges: Vec::new(),
        operator_unlock: None,
        wallet_check: None,
    }
}

/// Insert `n` synthetic cases in `state`; with `sms`, each gets a queued SMS in the outbox.
pub fn seed(svc: &Svc, n: usize, state: CaseState, sms: bool) -> Vec<CaseId> {
    let cases: Vec<Case> = (0..n).map(|i| synthetic_case(i, state)).collect();
    svc.store()
        .transact(|tx| {
            for c in &cases {
                tx.insert_case(c)?;
                if sms {
                    let now = Utc::now();
                    tx.queue_outbox(&OutboxMessage {
                        id: uuid::Uuid::new_v4().to_string(),
                        case_id: c.id,
                        kind: OutboxKind::Sms,
                        lang: "zh-CN".into(),
                        text: format!(
                            "【测试支行】您的数字钱包已解锁（业务编号 {}）。",
                            c.case_number
                        ),
                        status: OutboxStatus::Queued,
                        attempts: 0,
                        next_attempt_at: now,
                        claimed_until: None,
                        last_error: String::new(),
                        created_at: now,
                        sent_at: None,
                    })?;
                }
            }
            Ok(())
        })
        .expect("seed");
    cases.iter().map(|c| c.id).collect()
}
