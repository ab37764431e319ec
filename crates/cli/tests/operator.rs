//! The wallet operator's connector and the customer's notifications through the CLI, against
//! the real simulator process (`unlockdesk-operator-sim`, beside the CLI under test): on an
//! embedded store, and through a branch server (whose outbox worker sends the SMS).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_unlockdesk-cli");
const DEMO_PW: &str = "Demo#Pass2026";

/// A sibling binary of the CLI (built by the same `cargo test` of the workspace).
fn sibling(name: &str) -> PathBuf {
    let p = Path::new(BIN).with_file_name(name);
    assert!(
        p.exists(),
        "{} is missing: cargo build -p {name} first",
        p.display()
    );
    p
}

/// A child process that says it is ready on stdout with `prefix URL`; killed when dropped.
struct Proc {
    child: Child,
    url: String,
}

impl Proc {
    fn start(mut cmd: Command, prefix: &str) -> Proc {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start");
        let out = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(out).lines();
        let url = loop {
            let line = lines.next().expect("a ready line").unwrap();
            if let Some(u) = line.strip_prefix(prefix) {
                break u.trim().to_string();
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Proc { child, url }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sim(args: &[&str]) -> Proc {
    let mut c = Command::new(sibling("unlockdesk-operator-sim"));
    c.args(["--listen", "127.0.0.1:0"]).args(args);
    Proc::start(c, "OPERATOR_SIM_READY ")
}

fn ledger(sim: &Proc) -> Value {
    ureq::get(&format!("{}/sim/ledger", sim.url))
        .call()
        .unwrap()
        .into_json()
        .unwrap()
}

/// A demo store on an encrypted file, with its key file.
struct Store {
    _dir: tempfile::TempDir,
    db: PathBuf,
    key: PathBuf,
}

fn demo_store() -> Store {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("branch.key");
    let db = dir.path().join("u.db");
    let o = Command::new(BIN)
        .args(["key", "new", "--out"])
        .arg(&key)
        .env("UNLOCKDESK_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    let s = Store { db, key, _dir: dir };
    let o = s.cli(None, &[], &["demo"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    s
}

impl Store {
    /// `unlockdesk-cli --db` (or `--server`) with the demo password, the simulator's URL when
    /// `operator` is given.
    fn cli(&self, operator: Option<&str>, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut c = Command::new(BIN);
        // Logs and terminal settings beside the test's store, never in the real data directory.
        c.env("UNLOCKDESK_DATA_DIR", self._dir.path())
            .env("UNLOCKDESK_KEY_FILE", &self.key)
            .env("UNLOCKDESK_PASSWORD", DEMO_PW)
            .env("UNLOCKDESK_SUPERVISOR_PASSWORD", DEMO_PW)
            .env("UNLOCKDESK_OPERATOR_TIMEOUT_MS", "2000")
            .env_remove("UNLOCKDESK_OPERATOR_URL")
            .env_remove("UNLOCKDESK_SERVER")
            .env_remove("UNLOCKDESK_DATABASE_URL");
        if let Some(u) = operator {
            c.env("UNLOCKDESK_OPERATOR_URL", u);
        }
        for (k, v) in env {
            c.env(k, v);
        }
        if !args.contains(&"--server") {
            c.arg("--db").arg(&self.db);
        }
        c.args(args).output().unwrap()
    }

    fn json(&self, operator: Option<&str>, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let o = self.cli(operator, &[], &a);
        assert!(
            o.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap()
    }

    /// A demo case approved by `sup02` (the demo's submitted case of today).
    fn approved_case(&self) -> String {
        let list = self.json(None, &["case", "list", "--state", "submitted"]);
        let number = list[0]["case_number"].as_str().unwrap().to_string();
        let v = self.json(
            None,
            &["--as", "sup02", "case", "approve", "--case", &number],
        );
        assert_eq!(v["case"]["state"], "approved");
        number
    }
}

/// The simulator scripted for the approved `case`'s wallet: `entry` gives the wallet's entry
/// of the fixture's `wallets` object from its full id (revealed through the CLI with a reason,
/// as a teller reads it). Returns the simulator, the wallet id and the fixture file (kept
/// while the simulator runs).
fn scripted_sim(
    s: &Store,
    case: &str,
    entry: impl Fn(&str) -> String,
) -> (Proc, String, tempfile::NamedTempFile) {
    let shown = s.json(
        None,
        &[
            "--as",
            "tel01",
            "case",
            "reveal",
            "--case",
            case,
            "--field",
            "wallet-id",
            "--reason",
            "operator fixture for the test",
        ],
    );
    let wallet = shown["value"].as_str().unwrap().to_string();
    let fixture = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        fixture.path(),
        format!(r#"{{"wallets": {}}}"#, entry(&wallet)),
    )
    .unwrap();
    let sim = sim(&["--fixture", fixture.path().to_str().unwrap()]);
    (sim, wallet, fixture)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_case_is_unlocked_through_the_simulator_and_its_sms_delivered_once() {
    let sim = sim(&[]);
    let s = demo_store();
    let case = s.approved_case();
    let op = Some(sim.url.as_str());

    // Without a connector the manual path stays: nothing is asked of anyone.
    let o = s.cli(
        None,
        &[],
        &["--as", "tel01", "case", "request-unlock", "--case", &case],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("no connector serves this wallet operator"),
        "{}",
        text(&o)
    );

    let o = s.cli(
        op,
        &[],
        &["--as", "tel01", "case", "wallet-status", "--case", &case],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("the wallet is locked (wrong-password"),
        "{}",
        text(&o)
    );

    let o = s.cli(
        op,
        &[],
        &["--as", "tel01", "case", "request-unlock", "--case", &case],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("unlocked by the operator (reference SIM-UNL-"),
        "{}",
        text(&o)
    );

    // The SMS was queued with the step; `deliver` sends it.
    let list = s.json(
        op,
        &["--as", "tel01", "notifications", "list", "--case", &case],
    );
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["channel"], "sms");
    assert_eq!(list[0]["status"], "queued");
    assert_eq!(list[0]["attempts"], 0);
    assert!(list[0]["case_id"].as_str().is_some());
    let d = s.json(
        op,
        &[
            "--as",
            "tel01",
            "notifications",
            "deliver",
            "--timeout",
            "20",
        ],
    );
    assert_eq!(
        (d["sent"].as_u64(), d["queued"].as_u64()),
        (Some(1), Some(0)),
        "{d}"
    );
    let list = s.json(op, &["--as", "admin", "notifications", "list"]);
    assert_eq!(list[0]["status"], "sent");
    assert_eq!(list[0]["attempts"], 1);
    let text_sent = list[0]["text"].as_str().unwrap();
    assert!(
        text_sent.contains("自行设置新密码") && text_sent.contains("谨防诈骗"),
        "{text_sent}"
    );

    let l = ledger(&sim);
    assert_eq!(l["unlocks"].as_object().unwrap().len(), 1, "{l}");
    assert!(l["unlocks"].as_object().unwrap().values().all(|n| n == 1));
    assert_eq!(l["messages"][list[0]["id"].as_str().unwrap()], 1, "{l}");

    // Asked again on the unlocked case: refused, nothing sent twice.
    let o = s.cli(
        op,
        &[],
        &["--as", "tel01", "case", "request-unlock", "--case", &case],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(ledger(&sim)["unlocks"], l["unlocks"]);

    // Roles: an auditor may not list notifications; without --as it is a usage error.
    let o = s.cli(op, &[], &["--as", "aud01", "notifications", "list"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("forbidden"), "{}", text(&o));
    let o = s.cli(op, &[], &["notifications", "list"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn a_pending_answer_leaves_the_case_waiting_until_a_status_query_settles_it() {
    let s = demo_store();
    let case = s.approved_case();
    let (sim, wallet, _fixture) = scripted_sim(&s, &case, |wallet| {
        format!(r#"{{"{wallet}": {{"unlock": "pending", "pending_queries": 1}}}}"#)
    });
    let op = Some(sim.url.as_str());

    let o = s.cli(
        op,
        &[],
        &["--as", "tel01", "case", "request-unlock", "--case", &case],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("waiting for the operator (pending"),
        "{}",
        text(&o)
    );
    // The manual path is closed while the operator's answer is awaited.
    let o = s.cli(
        op,
        &[],
        &[
            "--as", "tel01", "case", "cancel", "--case", &case, "--reason", "x",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("has not answered the unlock request yet"),
        "{}",
        text(&o)
    );
    // Asked again: one status query, still pending.
    let o = s.cli(
        op,
        &[],
        &["--as", "tel01", "case", "request-unlock", "--case", &case],
    );
    assert!(
        text(&o).contains("waiting for the operator"),
        "{}",
        text(&o)
    );
    // A teller may not withdraw it (it may still be applied under its key).
    let o = s.cli(
        op,
        &[],
        &[
            "--as",
            "tel01",
            "case",
            "unlock-failed",
            "--case",
            &case,
            "--reason",
            "operator says not applied",
            "--next",
            "retry",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("only a supervisor may withdraw it"),
        "{}",
        text(&o)
    );
    // The outbox worker settles it with the same key.
    let d = s.json(
        op,
        &[
            "--as",
            "sup01",
            "notifications",
            "deliver",
            "--timeout",
            "30",
        ],
    );
    assert_eq!(d["settled"], 1, "{d}");
    assert_eq!(d["queued"], 0, "{d}");
    let v = s.json(op, &["--as", "tel01", "case", "show", &case]);
    assert_eq!(v["case"]["state"], "unlocked");
    assert_eq!(v["case"]["operator_unlock"]["status"], "confirmed");
    assert_eq!(ledger(&sim)["unlocks"][&wallet], 1);
}

#[test]
fn an_authority_freeze_flagged_by_the_operator_refuses_the_case() {
    let sim = sim(&[]);
    let s = demo_store();
    let list = s.json(None, &["case", "list", "--state", "form-recorded"]);
    let case = list[0]["case_number"].as_str().unwrap().to_string();
    let o = s.cli(
        Some(&sim.url),
        &[],
        &[
            "--as",
            "tel01",
            "case",
            "wallet-status",
            "--case",
            &case,
            "--wallet-id",
            "FRZ0001",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("AUTHORITY FREEZE"), "{}", text(&o));
    let v = s.json(None, &["--as", "tel01", "case", "show", &case]);
    assert_eq!(v["case"]["state"], "refused-authority-freeze");
    // A malformed wallet id is named and nothing is asked.
    let o = s.cli(
        Some(&sim.url),
        &[],
        &[
            "--as",
            "tel01",
            "case",
            "wallet-status",
            "--case",
            &case,
            "--wallet-id",
            "W-1/2",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn through_a_branch_server_the_servers_worker_sends_the_sms() {
    let sim = sim(&[]);
    let s = demo_store();
    let case = s.approved_case();
    let mut c = Command::new(sibling("unlockdesk-server"));
    c.arg("--db")
        .arg(&s.db)
        .args(["--listen", "127.0.0.1:0"])
        .env("UNLOCKDESK_KEY_FILE", &s.key)
        .env("UNLOCKDESK_OPERATOR_URL", &sim.url)
        .env("UNLOCKDESK_DATA_DIR", s.db.parent().unwrap())
        .env("UNLOCKDESK_LOG", "warn");
    let server = Proc::start(c, "UNLOCKDESK_SERVER_READY ");
    let remote = |args: &[&str]| {
        let mut a = vec!["--server", server.url.as_str()];
        a.extend_from_slice(args);
        s.cli(None, &[], &a)
    };
    let o = remote(&["--as", "tel01", "case", "request-unlock", "--case", &case]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("unlocked by the operator"),
        "{}",
        text(&o)
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let o = remote(&[
            "--json",
            "--as",
            "tel01",
            "notifications",
            "list",
            "--case",
            &case,
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        if v[0]["status"] == "sent" {
            assert_eq!(ledger(&sim)["messages"][v[0]["id"].as_str().unwrap()], 1);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server's worker never sent it: {v}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let o = remote(&["--as", "admin", "case", "request-unlock", "--case", &case]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("forbidden"), "{}", text(&o));
}

/// The cluster of `scripts/with-postgres.sh`; `None` without it, unless a run requires it
/// (`CI=true`, `UNLOCKDESK_REQUIRE_PG=1`), where the test fails.
fn pg_cluster() -> Option<String> {
    match std::env::var("UNLOCKDESK_DATABASE_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u.trim().to_string()),
        _ => {
            let required = std::env::var("CI").is_ok_and(|v| v == "true")
                || std::env::var("UNLOCKDESK_REQUIRE_PG").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "UNLOCKDESK_DATABASE_URL unset: run through scripts/with-postgres.sh"
            );
            eprintln!(
                "UNLOCKDESK_DATABASE_URL unset: skipped (run through scripts/with-postgres.sh)"
            );
            None
        }
    }
}

#[test]
fn two_servers_on_one_postgres_send_each_queued_sms_exactly_once() {
    const N: usize = 60;
    let Some(cluster) = pg_cluster() else { return };
    let name = format!("ud_cli_outbox_{}", std::process::id());
    let cfg: postgres::Config = cluster.parse().unwrap();
    let mut admin = cfg.connect(postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (head, query) = cluster.split_at(cluster.find('?').unwrap_or(cluster.len()));
    let url = format!("{}/{name}{query}", &head[..head.rfind('/').unwrap()]);
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("branch.key");
    assert!(Command::new(BIN)
        .args(["key", "new", "--out"])
        .arg(&key)
        .env("UNLOCKDESK_DATA_DIR", dir.path())
        .status()
        .unwrap()
        .success());
    let o = Command::new(BIN)
        .args(["--db", &url, "demo"])
        .env("UNLOCKDESK_DATA_DIR", dir.path())
        .env("UNLOCKDESK_KEY_FILE", &key)
        .env_remove("UNLOCKDESK_OPERATOR_URL")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));

    // N customer SMS queued on the demo's cases, as unlocking steps queue them.
    let mut db = url
        .parse::<postgres::Config>()
        .unwrap()
        .connect(postgres::NoTls)
        .unwrap();
    let cases: Vec<uuid::Uuid> = db
        .query("SELECT id FROM cases ORDER BY case_number", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let now = chrono::Utc::now();
    let mut ids = Vec::new();
    for i in 0..N {
        let id = uuid::Uuid::new_v4().to_string();
        let case = cases[i % cases.len()];
        let data = serde_json::json!({
            "id": id, "case_id": case, "kind": "sms", "lang": "zh-CN",
            "text": format!("【演示支行】测试短信 {i}"), "status": "queued", "attempts": 0,
            "next_attempt_at": now, "claimed_until": null, "last_error": "",
            "created_at": now, "sent_at": null,
        });
        db.execute(
            "INSERT INTO outbox (id, case_id, kind, status, next_attempt_at, created_at, data) \
             VALUES ($1, $2, 'sms', 'queued', $3, $3, $4)",
            &[&id, &case, &now, &data],
        )
        .unwrap();
        ids.push(id);
    }

    // Two servers, each with its outbox worker, against a gateway that fails 30 % of calls.
    let sim = sim(&[
        "--fault-rate",
        "0.3",
        "--fault-delay-ms",
        "400",
        "--seed",
        "5",
    ]);
    let start = |tag: &str| {
        let data = dir.path().join(tag);
        std::fs::create_dir_all(&data).unwrap();
        let mut c = Command::new(sibling("unlockdesk-server"));
        c.args(["--db", &url, "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .env("UNLOCKDESK_KEY_FILE", &key)
            .env("UNLOCKDESK_OPERATOR_URL", &sim.url)
            .env("UNLOCKDESK_OPERATOR_TIMEOUT_MS", "300")
            .env("UNLOCKDESK_OPERATOR_CONNECT_TIMEOUT_MS", "300")
            .env("UNLOCKDESK_LOG", "warn");
        Proc::start(c, "UNLOCKDESK_SERVER_READY ")
    };
    let (a, b) = (start("a"), start("b"));
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let left: i64 = db
            .query_one("SELECT COUNT(*) FROM outbox WHERE status <> 'sent'", &[])
            .unwrap()
            .get(0);
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{left} messages not sent");
        std::thread::sleep(Duration::from_millis(200));
    }
    drop((a, b));

    // Each message: one `notification-sent` event (one worker sent and recorded it), one
    // delivery at the gateway, under its own id.
    let l = ledger(&sim);
    assert_eq!(l["messages"].as_object().unwrap().len(), N, "{l}");
    let events: Vec<String> = db
        .query(
            "SELECT detail FROM audit_events WHERE action = 'notification-sent'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(events.len(), N, "one sent event per message");
    for id in &ids {
        assert_eq!(l["messages"][id], 1, "{id}");
        assert_eq!(
            events.iter().filter(|d| d.contains(id.as_str())).count(),
            1,
            "{id}"
        );
    }
    drop(db);
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .unwrap();
}

#[test]
fn an_operator_refusal_for_a_freeze_refuses_the_case_and_other_refusals_fail_the_unlock() {
    let s = demo_store();
    let case = s.approved_case();
    let (sim, _wallet, _fixture) = scripted_sim(&s, &case, |wallet| {
        format!(
            r#"{{"{wallet}": {{"unlock": "reject", "reject_code": "authority-freeze",
                "reject_message": "wallet {wallet} frozen by a court's order"}}}}"#
        )
    });
    let o = s.cli(
        Some(&sim.url),
        &[],
        &["--as", "tel01", "case", "request-unlock", "--case", &case],
    );
    assert!(o.status.success(), "{}", text(&o));
    let v = s.json(None, &["--as", "tel01", "case", "show", &case]);
    assert_eq!(v["case"]["state"], "refused-authority-freeze", "{v}");
    assert_eq!(v["case"]["operator_unlock"]["status"], "rejected");
    // The operator's words are kept with their digits masked.
    let reason = v["case"]["unlock_failures"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("authority-freeze") && !reason.contains("2026-0012"),
        "{reason}"
    );
    assert_eq!(ledger(&sim)["unlocks"], serde_json::json!({}));
}

#[test]
fn a_supervisor_withdraws_a_request_the_operator_never_applied() {
    let s = demo_store();
    let case = s.approved_case();
    let (sim, _wallet, _fixture) = scripted_sim(&s, &case, |wallet| {
        format!(r#"{{"{wallet}": {{"unlock": "pending", "pending_queries": 1000}}}}"#)
    });
    let op = Some(sim.url.as_str());
    let o = s.cli(
        op,
        &[],
        &["--as", "tel01", "case", "request-unlock", "--case", &case],
    );
    assert!(
        text(&o).contains("waiting for the operator"),
        "{}",
        text(&o)
    );
    let o = s.cli(
        op,
        &[],
        &[
            "--as",
            "sup01",
            "case",
            "unlock-failed",
            "--case",
            &case,
            "--reason",
            "the operator confirmed by phone it was not applied",
            "--next",
            "escalate",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let v = s.json(None, &["--as", "tel01", "case", "show", &case]);
    assert_eq!(v["case"]["state"], "unlock-failed");
    assert_eq!(v["case"]["operator_unlock"]["status"], "rejected");
    assert_eq!(
        v["case"]["operator_unlock"]["last_answer"],
        "withdrawn at the counter"
    );
    // Its settle job finds nothing to settle; a new request is a new key.
    let d = s.json(
        op,
        &[
            "--as",
            "sup01",
            "notifications",
            "deliver",
            "--timeout",
            "10",
        ],
    );
    assert_eq!(
        (d["settled"].as_u64(), d["queued"].as_u64()),
        (Some(0), Some(0)),
        "{d}"
    );
    assert_eq!(ledger(&sim)["unlocks"], serde_json::json!({}));
}
