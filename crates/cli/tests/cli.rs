//! The CLI end to end on a real SQLite file: set-up, staff, the whole counter path from
//! walk-in to closed with a teller and a supervisor, the maker refused, exit codes, JSON.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_unlockdesk-cli");
const PW: &str = "Counter#2026";
const ID: &str = "11010519491231002X";

fn form_path() -> String {
    format!(
        "{}/../../tests/fixtures/form.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn cli(db: &Path, args: &[&str], pw: Option<&str>) -> Output {
    let mut c = Command::new(BIN);
    c.arg("--db")
        .arg(db)
        .args(args)
        .env_remove("UNLOCKDESK_PASSWORD")
        .env_remove("UNLOCKDESK_NEW_PASSWORD")
        .env_remove("UNLOCKDESK_SUPERVISOR_PASSWORD");
    if let Some(p) = pw {
        c.env("UNLOCKDESK_PASSWORD", p)
            .env("UNLOCKDESK_NEW_PASSWORD", p);
    }
    c.stdin(std::process::Stdio::null()).output().unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

fn ok(db: &Path, args: &[&str], pw: Option<&str>) -> Value {
    let o = cli(db, args, pw);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    json(&o)
}

fn setup(db: &Path) {
    ok(
        db,
        &[
            "--json",
            "setup",
            "--branch-code",
            "T1",
            "--branch-name",
            "测试支行",
            "--admin-id",
            "admin",
            "--admin-name",
            "管理员",
        ],
        Some(PW),
    );
    for (id, role) in [
        ("tel01", "teller"),
        ("sup01", "supervisor"),
        ("sup02", "supervisor"),
    ] {
        ok(
            db,
            &[
                "--json", "--as", "admin", "staff", "add", "--id", id, "--name", id, "--role", role,
            ],
            Some(PW),
        );
        // First sign-in must change the password: the account refuses work until then.
        let o = cli(
            db,
            &["--json", "--as", id, "case", "open", "--name", "测试"],
            Some(PW),
        );
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(json(&o)["code"], "password-change-required");
        let mut c = Command::new(BIN);
        let o = c
            .args(["--db", db.to_str().unwrap(), "--as", id, "staff", "passwd"])
            .env("UNLOCKDESK_PASSWORD", PW)
            .env("UNLOCKDESK_NEW_PASSWORD", "Changed#2026")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

#[test]
fn walk_in_to_closed_and_maker_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    setup(&db);
    let pw = Some("Changed#2026");
    let v = ok(
        &db,
        &[
            "--json",
            "--as",
            "tel01",
            "case",
            "open",
            "--name",
            "测试甲",
            "--phone",
            "13123456789",
            "--lock-cause",
            "wrong-password",
        ],
        pw,
    );
    let id = v["case"]["id"].as_str().unwrap().to_string();
    assert_eq!(v["case"]["state"], "checked-in");
    // global options after the subcommand too
    ok(
        &db,
        &[
            "case",
            "verify-identity",
            "--case",
            &id,
            "--kind",
            "prc-id",
            "--number",
            ID,
            "--online-check",
            "match",
            "--online-ref",
            "LWHC-0001",
            "--name-on-document",
            "测试甲",
            "--as",
            "tel01",
            "--json",
        ],
        pw,
    );
    ok(
        &db,
        &[
            "--json",
            "--as",
            "tel01",
            "case",
            "record-form",
            "--case",
            &id,
            "--form",
            &form_path(),
        ],
        pw,
    );
    ok(
        &db,
        &[
            "--json",
            "--as",
            "tel01",
            "form",
            "print",
            "--case",
            &id,
            "--form",
            "application",
            "--copy",
            "bank",
        ],
        pw,
    );
    ok(
        &db,
        &[
            "--json",
            "--as",
            "tel01",
            "case",
            "confirm-signed",
            "--case",
            &id,
        ],
        pw,
    );
    ok(
        &db,
        &["--json", "--as", "tel01", "case", "submit", "--case", &id],
        pw,
    );
    // The maker approving is refused (four-eyes), with exit 1 and a JSON error.
    let o = cli(
        &db,
        &["--json", "--as", "tel01", "case", "approve", "--case", &id],
        pw,
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["code"], "forbidden");
    let o = cli(
        &db,
        &[
            "--json",
            "--as",
            "tel01",
            "case",
            "approve",
            "--case",
            &id,
            "--supervisor",
            "tel01",
        ],
        pw,
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "no supervisor password and no terminal: usage error"
    );
    ok(
        &db,
        &["--json", "--as", "sup01", "case", "approve", "--case", &id],
        pw,
    );
    ok(
        &db,
        &[
            "--json",
            "--as",
            "tel01",
            "case",
            "contact",
            "--case",
            &id,
            "--channel",
            "phone",
            "--ticket",
            "OP-7",
            "--result",
            "unlocked",
        ],
        pw,
    );
    ok(
        &db,
        &[
            "--json",
            "--as",
            "sup01",
            "case",
            "unlock",
            "--case",
            &id,
            "--operator-ref",
            "OP-7",
            "--notified-via",
            "sms",
        ],
        pw,
    );
    // Rule 1: no receipt, no reason: refused, naming the field.
    let o = cli(
        &db,
        &["--json", "--as", "tel01", "case", "close", "--case", &id],
        pw,
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["fields"][0]["rule"], "receipt-not-printed");
    let receipt = dir.path().join("receipt.pdf");
    let v = ok(
        &db,
        &[
            "--json",
            "--as",
            "tel01",
            "form",
            "print",
            "--case",
            &id,
            "--form",
            "receipt",
            "--copy",
            "customer",
            "--out",
            receipt.to_str().unwrap(),
        ],
        pw,
    );
    assert_eq!(
        (v["channel"].as_str(), v["outcome"].as_str()),
        (Some("file"), Some("completed"))
    );
    assert!(std::fs::read(&receipt).unwrap().starts_with(b"%PDF"));
    let v = ok(
        &db,
        &["--json", "--as", "tel01", "case", "close", "--case", &id],
        pw,
    );
    assert_eq!(v["case"]["state"], "closed");
    // case show lists every step, without --as, masked.
    let o = cli(&db, &["--json", "case", "show", &id], None);
    let v = json(&o);
    let actions: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "open-case",
        "verify-identity",
        "record-form",
        "confirm-signed",
        "submit",
        "approve",
        "log-contact",
        "confirm-unlock",
        "close",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let text = String::from_utf8_lossy(&o.stdout);
    for full in [ID, "13123456789", "6200000000000005"] {
        assert!(!text.contains(full), "{full} printed unmasked");
    }
    // case list --json: a top-level array with id, case_number, state.
    let v = ok(&db, &["case", "list", "--json"], None);
    let first = &v.as_array().unwrap()[0];
    assert_eq!(first["id"], id.as_str());
    assert_eq!(first["state"], "closed");
    assert!(first["case_number"].as_str().unwrap().starts_with("T1-"));
    // case show by case number works too
    ok(
        &db,
        &[
            "--json",
            "case",
            "show",
            first["case_number"].as_str().unwrap(),
        ],
        None,
    );
    // The audit chain verifies.
    let v = ok(&db, &["--json", "audit", "verify"], None);
    assert_eq!(v["ok"], true);
}

#[test]
fn maker_supervisor_is_refused_four_eyes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    setup(&db);
    let pw = Some("Changed#2026");
    // The supervisor does the teller steps, then tries to approve.
    let v = ok(
        &db,
        &[
            "--json",
            "--as",
            "sup01",
            "case",
            "open",
            "--name",
            "测试甲",
        ],
        pw,
    );
    let id = v["case"]["id"].as_str().unwrap().to_string();
    ok(
        &db,
        &[
            "--json",
            "--as",
            "sup01",
            "case",
            "verify-identity",
            "--case",
            &id,
            "--kind",
            "prc-id",
            "--number",
            ID,
            "--online-check",
            "match",
            "--online-ref",
            "LWHC-0001",
            "--name-on-document",
            "测试甲",
        ],
        pw,
    );
    ok(
        &db,
        &[
            "--json",
            "--as",
            "sup01",
            "case",
            "record-form",
            "--case",
            &id,
            "--form",
            &form_path(),
        ],
        pw,
    );
    ok(
        &db,
        &[
            "--json",
            "--as",
            "sup01",
            "form",
            "print",
            "--case",
            &id,
            "--form",
            "application",
            "--copy",
            "bank",
        ],
        pw,
    );
    ok(
        &db,
        &[
            "--json",
            "--as",
            "sup01",
            "case",
            "confirm-signed",
            "--case",
            &id,
        ],
        pw,
    );
    ok(
        &db,
        &["--json", "--as", "sup01", "case", "submit", "--case", &id],
        pw,
    );
    let o = cli(
        &db,
        &["--json", "--as", "SUP01", "case", "approve", "--case", &id],
        pw,
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["code"], "four-eyes");
}

#[test]
fn exit_codes_and_password_handling() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    // No password, no terminal: exit 2, not a hang.
    let o = cli(
        &db,
        &[
            "setup",
            "--branch-code",
            "T1",
            "--branch-name",
            "x",
            "--admin-id",
            "admin",
            "--admin-name",
            "x",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    // Unknown subcommand: usage.
    assert_eq!(cli(&db, &["frobnicate"], None).status.code(), Some(2));
    setup(&db);
    // Wrong password: refused, exit 1, one JSON document.
    let o = cli(
        &db,
        &["--json", "--as", "tel01", "case", "open", "--name", "x"],
        Some("wrong"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["code"], "auth-failed");
    // A write without --as is a usage error.
    assert_eq!(
        cli(&db, &["case", "submit", "--case", "x"], None)
            .status
            .code(),
        Some(2)
    );
    // Invalid input: exit 1 with fields.
    let o = cli(
        &db,
        &[
            "--json", "--as", "tel01", "case", "open", "--name", "x", "--phone", "12345",
        ],
        Some("Changed#2026"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["fields"][0]["field"], "phone");
    // demo refuses a non-empty store
    assert_eq!(cli(&db, &["--json", "demo"], None).status.code(), Some(1));
}

#[test]
fn demo_fills_a_fresh_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    ok(&db, &["--json", "demo"], None);
    let v = ok(&db, &["--json", "case", "list"], None);
    let states: std::collections::BTreeSet<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap())
        .collect();
    assert!(states.len() >= 3, "{states:?}");
    assert_eq!(v[0]["state"], "form-recorded");
    let today = ok(&db, &["--json", "appointments", "today"], None);
    assert_eq!(today.as_array().unwrap().len(), 8);
    assert_eq!(ok(&db, &["--json", "audit", "verify"], None)["ok"], true);
}

const CHANGED: Option<&str> = Some("Changed#2026");
/// A synthetic, unexpired passport MRZ (ICAO 9303 TD3; check digits computed): a co-check.
const MRZ1: &str = "P<CHNZHANG<<SAN<<<<<<<<<<<<<<<<<<<<<<<<<<<<<";
const MRZ2: &str = "E123456782CHN9005226M3404252<<<<<<<<<<<<<<08";

/// sup01 does the teller steps through the CLI: open and verify identity (a passport when
/// `passport`), then, when `submit`, form, signed paper and submit. Returns the case id.
fn case_made_by_sup01(db: &Path, passport: bool, submit: bool) -> String {
    let as_sup01 = |args: &[&str]| {
        let mut all = vec!["--json", "--as", "sup01", "case"];
        all.extend_from_slice(args);
        ok(db, &all, CHANGED)
    };
    let v = as_sup01(&["open", "--name", "测试甲"]);
    let id = v["case"]["id"].as_str().unwrap().to_string();
    if passport {
        as_sup01(&[
            "verify-identity",
            "--case",
            &id,
            "--kind",
            "passport-mrz",
            "--number",
            MRZ1,
            "--mrz-line2",
            MRZ2,
            "--name-on-document",
            "Zhang San",
        ]);
    } else {
        as_sup01(&[
            "verify-identity",
            "--case",
            &id,
            "--kind",
            "prc-id",
            "--number",
            ID,
            "--online-check",
            "match",
            "--online-ref",
            "LWHC-0001",
            "--name-on-document",
            "测试甲",
        ]);
    }
    if submit {
        as_sup01(&["record-form", "--case", &id, "--form", &form_path()]);
        let mut print = vec!["--json", "--as", "sup01", "form", "print", "--case", &id];
        print.extend(["--form", "application", "--copy", "bank"]);
        ok(db, &print, CHANGED);
        as_sup01(&["confirm-signed", "--case", &id]);
        as_sup01(&["submit", "--case", &id]);
    }
    id
}

/// `args` run as the maker (typed `SUP01`: one person with `sup01`) is refused with
/// `four-eyes` and exit 1; the same as sup02 succeeds and leaves the case in `state`.
fn maker_refused_checker_allowed(db: &Path, args: &[&str], state: &str) {
    let with = |who: &str| {
        let mut all = vec!["--json", "--as", who, "case"];
        all.extend_from_slice(args);
        all.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let maker = with("SUP01");
    let refs: Vec<&str> = maker.iter().map(String::as_str).collect();
    let o = cli(db, &refs, CHANGED);
    assert_eq!(o.status.code(), Some(1), "{args:?}");
    assert_eq!(json(&o)["code"], "four-eyes", "{args:?}");
    let checker = with("sup02");
    let refs: Vec<&str> = checker.iter().map(String::as_str).collect();
    let v = ok(db, &refs, CHANGED);
    assert_eq!(v["case"]["state"], state, "{args:?}");
}

#[test]
fn cocheck_subcommand_refuses_a_maker() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    setup(&db);
    let id = case_made_by_sup01(&db, true, false);
    maker_refused_checker_allowed(&db, &["cocheck", "--case", &id], "identity-verified");
}

#[test]
fn return_and_reject_subcommands_refuse_a_maker() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    setup(&db);
    let id = case_made_by_sup01(&db, false, true);
    maker_refused_checker_allowed(
        &db,
        &["return", "--case", &id, "--reason-code", "form-incomplete"],
        "returned-for-info",
    );
    let id = case_made_by_sup01(&db, false, true);
    maker_refused_checker_allowed(
        &db,
        &["reject", "--case", &id, "--reason-code", "suspected-fraud"],
        "rejected",
    );
}

#[test]
fn unlock_subcommand_refuses_a_maker() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    setup(&db);
    let id = case_made_by_sup01(&db, false, true);
    ok(
        &db,
        &["--json", "--as", "sup02", "case", "approve", "--case", &id],
        CHANGED,
    );
    ok(
        &db,
        &[
            "--json",
            "--as",
            "sup01",
            "case",
            "contact",
            "--case",
            &id,
            "--channel",
            "phone",
            "--ticket",
            "OP-1",
            "--result",
            "unlocked",
        ],
        CHANGED,
    );
    maker_refused_checker_allowed(
        &db,
        &["unlock", "--case", &id, "--operator-ref", "OP-1"],
        "unlocked",
    );
}

/// Rules 1, 4, 5 and 7 through the CLI: sign only after `form print`, unlock only after the
/// operator contact, the online identity check with its reference (a mismatch stops the case),
/// agents off by default, an anti-fraud restriction refused at check-in.
#[test]
fn evidence_rules_on_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    setup(&db);
    let pw = Some("Changed#2026");
    let run = |who: &str, args: &[&str]| {
        let mut all = vec!["--json", "--as", who];
        all.extend_from_slice(args);
        cli(&db, &all, pw)
    };
    let open = |name: &str, cause: &str| {
        let o = run(
            "tel01",
            &["case", "open", "--name", name, "--lock-cause", cause],
        );
        assert_eq!(o.status.code(), Some(0));
        json(&o)
    };
    let id = open("测试甲", "wrong-password")["case"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let verify = |case: &str, extra: &[&str]| {
        let mut args = vec![
            "case",
            "verify-identity",
            "--case",
            case,
            "--kind",
            "prc-id",
        ];
        args.extend(["--number", ID, "--name-on-document", "测试甲"]);
        args.extend_from_slice(extra);
        run("tel01", &args)
    };
    // Rule 5: required by the branch, refused without; a reference without a result is usage.
    let o = verify(&id, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["fields"][0]["field"], "online_check");
    assert_eq!(
        verify(&id, &["--online-ref", "LWHC-1"]).status.code(),
        Some(2)
    );
    let o = verify(&id, &["--online-check", "maybe", "--online-ref", "LWHC-1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("match, mismatch, not-found"));
    let o = verify(&id, &["--online-check", "match", "--online-ref", "LWHC-1"]);
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    assert_eq!(v["case"]["identity"]["online_check"]["reference"], "LWHC-1");
    assert_eq!(v["case"]["identity"]["online_check"]["result"], "match");
    // Rule 1: the signed paper needs the printed form.
    let o = run(
        "tel01",
        &["case", "record-form", "--case", &id, "--form", &form_path()],
    );
    assert_eq!(o.status.code(), Some(0));
    let o = run("tel01", &["case", "confirm-signed", "--case", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(json(&o)["message"]
        .as_str()
        .unwrap()
        .contains("print the bank copy"));
    let o = run(
        "tel01",
        &[
            "form",
            "print",
            "--case",
            &id,
            "--form",
            "application",
            "--copy",
            "bank",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    assert_eq!(
        (v["channel"].as_str(), v["form_revision"].as_u64()),
        (Some("file"), Some(1))
    );
    let o = run("tel01", &["case", "confirm-signed", "--case", &id]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        run("tel01", &["case", "submit", "--case", &id])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run("sup01", &["case", "approve", "--case", &id])
            .status
            .code(),
        Some(0)
    );
    // Rule 4: the unlock needs the operator contact.
    let unlock = [
        "case",
        "unlock",
        "--case",
        &id,
        "--operator-ref",
        "OP-9",
        "--notified-via",
        "sms",
    ];
    let o = run("sup01", &unlock);
    assert_eq!(o.status.code(), Some(1));
    assert!(json(&o)["message"]
        .as_str()
        .unwrap()
        .contains("log the contact"));
    let contact = [
        "case",
        "contact",
        "--case",
        &id,
        "--channel",
        "phone",
        "--ticket",
        "OP-9",
        "--result",
        "unlocked",
    ];
    assert_eq!(run("tel01", &contact).status.code(), Some(0));
    assert_eq!(run("sup01", &unlock).status.code(), Some(0));
    let o = run(
        "tel01",
        &[
            "case",
            "close",
            "--case",
            &id,
            "--receipt-waiver",
            "customer declined the receipt",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        json(&o)["case"]["receipt_waiver"],
        "customer declined the receipt"
    );
    // Rule 5: a mismatch stops the case with its reference.
    let id2 = open("测试甲", "wrong-password")["case"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let o = verify(
        &id2,
        &["--online-check", "mismatch", "--online-ref", "LWHC-2"],
    );
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    assert_eq!(v["case"]["state"], "refused-identity");
    assert!(v["case"]["last_reason"]
        .as_str()
        .unwrap()
        .contains("LWHC-2"));
    // Rule 7: an anti-fraud restriction is refused at check-in; agents are off by default.
    let v = open("测试丙", "anti-fraud-restriction");
    assert_eq!(v["case"]["state"], "refused-authority-freeze");
    assert!(v["freeze_route"].as_str().unwrap().contains("anti-fraud"));
    let id3 = open("测试甲", "wrong-password")["case"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    verify(&id3, &["--online-check", "match", "--online-ref", "LWHC-3"]);
    let mut f: Value =
        serde_json::from_str(&std::fs::read_to_string(form_path()).unwrap()).unwrap();
    f["agent"] = serde_json::json!({"name": "测试乙", "id_type": "prc-id",
        "id_number": ID, "phone": "13700001111", "relationship": "配偶"});
    let agent_form = dir.path().join("agent.json");
    std::fs::write(&agent_form, f.to_string()).unwrap();
    let o = run(
        "tel01",
        &[
            "case",
            "record-form",
            "--case",
            &id3,
            "--form",
            agent_form.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["fields"][0]["rule"], "not-allowed-by-branch");
}

/// `form print --printer` sends the PDF to a real CUPS queue (the virtual PDF printer
/// `scripts/cups-test.sh` sets up; `make test` exports UNLOCKDESK_TEST_PRINTER), records the job
/// id and outcome, and the file CUPS printed is the form (its page rendered matches the stored
/// copy far more closely than another document does). An unknown queue: exit 1, the job
/// recorded as failed, the signature still refused.
#[test]
fn form_print_goes_through_cups_and_prints_the_form() {
    let (Ok(printer), Ok(print_dir)) = (
        std::env::var("UNLOCKDESK_TEST_PRINTER"),
        std::env::var("UNLOCKDESK_TEST_PRINT_DIR"),
    ) else {
        eprintln!("SKIPPED: no CUPS test printer (run through `make test-rust`)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    setup(&db);
    let pw = Some("Changed#2026");
    let run = |args: &[&str]| {
        let mut all = vec!["--json", "--as", "tel01"];
        all.extend_from_slice(args);
        cli(&db, &all, pw)
    };
    let o = run(&["case", "open", "--name", "测试甲"]);
    let id = json(&o)["case"]["id"].as_str().unwrap().to_string();
    let mut verify = vec!["case", "verify-identity", "--case", &id, "--kind", "prc-id"];
    verify.extend(["--number", ID, "--name-on-document", "测试甲"]);
    verify.extend(["--online-check", "match", "--online-ref", "LWHC-9"]);
    assert_eq!(run(&verify).status.code(), Some(0));
    assert_eq!(
        run(&["case", "record-form", "--case", &id, "--form", &form_path()])
            .status
            .code(),
        Some(0)
    );
    // A queue that does not exist: refused by CUPS, recorded as failed, exit 1.
    let print = |p: &str, out: &Path| {
        run(&[
            "form",
            "print",
            "--case",
            &id,
            "--form",
            "application",
            "--copy",
            "bank",
            "--printer",
            p,
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let o = print("NO-SUCH-QUEUE", &dir.path().join("x.pdf"));
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["outcome"], "failed");
    assert!(!v["message"].as_str().unwrap().is_empty());
    assert_eq!(
        run(&["case", "confirm-signed", "--case", &id])
            .status
            .code(),
        Some(1)
    );
    // The real queue.
    let stored = dir.path().join("stored.pdf");
    let o = print(&printer, &stored);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    let job = v["job_id"].as_str().unwrap().to_string();
    assert!(job.starts_with(&format!("{printer}-")), "{job}");
    assert_eq!(v["outcome"], "completed");
    assert_eq!(
        v["reprint"], false,
        "a failed job is recorded but the next is no reprint?"
    );
    let number = v["case"].as_str().unwrap().to_string();
    // cups-pdf names the file after the job title and the job number.
    let job_no = job.rsplit('-').next().unwrap().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let printed = loop {
        let found = std::fs::read_dir(&print_dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                let n = p.file_name().unwrap().to_string_lossy().to_string();
                n.starts_with(&number) && n.ends_with(&format!("job_{job_no}.pdf"))
            });
        if let Some(p) = found {
            break p;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "cups-pdf wrote no file for {job}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let page = |pdf: &Path, stem: &str| {
        let prefix = dir.path().join(stem);
        let o = Command::new("pdftoppm")
            .args(["-q", "-r", "40", "-gray", "-singlefile"])
            .arg(pdf)
            .arg(&prefix)
            .output()
            .unwrap();
        assert!(o.status.success());
        prefix.with_extension("pgm")
    };
    let differ = |a: &Path, b: &Path| -> u64 {
        let o = Command::new("compare")
            .args(["-metric", "AE", "-fuzz", "20%"])
            .arg(a)
            .arg(b)
            .arg("null:")
            .output()
            .unwrap();
        let s = String::from_utf8_lossy(&o.stderr);
        s.split_whitespace().next().unwrap().parse::<f64>().unwrap() as u64
    };
    let (p, s) = (page(&printed, "printed"), page(&stored, "stored"));
    let same = differ(&p, &s);
    let blank = {
        let b = dir.path().join("blank.pgm");
        Command::new("convert")
            .arg(&s)
            .args(["-fill", "white", "-colorize", "100"])
            .arg(&b)
            .status()
            .unwrap();
        b
    };
    let scale = differ(&p, &blank);
    assert!(
        same * 4 < scale,
        "the printed page differs from the form ({same} px) nearly as much as from a blank page ({scale} px)"
    );
    // The job is on the case and the signature is now allowed.
    let o = cli(&db, &["--json", "case", "show", &id], None);
    let v = json(&o);
    let prints = v["case"]["prints"].as_array().unwrap();
    assert!(prints
        .iter()
        .any(|p| p["job_id"] == job.as_str() && p["outcome"] == "completed"));
    assert!(prints
        .iter()
        .any(|p| p["outcome"] == "failed" && p["printer"] == "NO-SUCH-QUEUE"));
    assert_eq!(
        run(&["case", "confirm-signed", "--case", &id])
            .status
            .code(),
        Some(0)
    );
    let _ = std::fs::remove_file(&printed);
}
