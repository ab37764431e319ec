//! Logs never carry full personal numbers (docs/domain.md §5): the whole counter
//! flow runs through the CLI at info level with its own data directory, including refusals
//! whose input holds full numbers; then every log file and everything printed is searched for
//! the full ID, phone, card and wallet numbers used: zero hits. The logs must also really
//! hold the flow (case number, actions, actors), so the test cannot pass on an empty log.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_unlockdesk-cli");
const PW: &str = "Counter#2026";
const ID: &str = "11010519491231002X";
const PHONE: &str = "13123456789";
const CARD: &str = "6200000000000005";
const WALLET: &str = "0099123456789012";
/// A well-formed ID number with a wrong check character, typed in a refused step.
const BAD_ID: &str = "110105194912310021";

struct Run {
    dir: std::path::PathBuf,
    /// The store's key file, kept apart from the data directory.
    key: std::path::PathBuf,
    printed: String,
}

impl Run {
    fn cli(&mut self, args: &[&str], pw: &str) -> Output {
        self.cli_new(args, pw, pw)
    }
    fn cli_new(&mut self, args: &[&str], pw: &str, new_pw: &str) -> Output {
        let o = Command::new(BIN)
            .arg("--db")
            .arg(self.dir.join("unlockdesk.db"))
            .args(args)
            .env("UNLOCKDESK_DATA_DIR", &self.dir)
            .env("UNLOCKDESK_KEY_FILE", &self.key)
            .env("UNLOCKDESK_LOG", "info")
            .env("UNLOCKDESK_PASSWORD", pw)
            .env("UNLOCKDESK_NEW_PASSWORD", new_pw)
            .env_remove("UNLOCKDESK_SUPERVISOR_PASSWORD")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        self.printed.push_str(&String::from_utf8_lossy(&o.stdout));
        self.printed.push_str(&String::from_utf8_lossy(&o.stderr));
        o
    }
    fn ok(&mut self, args: &[&str], pw: &str) -> Value {
        let o = self.cli(args, pw);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap_or(Value::Null)
    }
    fn refused(&mut self, args: &[&str], pw: &str) {
        let o = self.cli(args, pw);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{args:?} should be refused: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

fn log_text(dir: &Path) -> (String, usize) {
    let mut text = String::new();
    let mut files = 0;
    for e in std::fs::read_dir(dir.join("logs")).expect("no logs directory next to the database") {
        let p = e.unwrap().path();
        if p.is_file() {
            files += 1;
            text.push_str(&String::from_utf8_lossy(&std::fs::read(&p).unwrap()));
        }
    }
    (text, files)
}

#[test]
fn whole_flow_logs_no_full_personal_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("branch.key");
    let o = Command::new(BIN)
        .args(["key", "new", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(o.status.success());
    let mut r = Run {
        dir: tmp.path().to_path_buf(),
        key,
        printed: String::new(),
    };
    let form = format!(
        "{}/../../tests/fixtures/form.json",
        env!("CARGO_MANIFEST_DIR")
    );
    r.ok(
        &[
            "--json",
            "setup",
            "--branch-code",
            "L1",
            "--branch-name",
            "日志支行",
            "--admin-id",
            "admin",
            "--admin-name",
            "管理员",
        ],
        PW,
    );
    for (id, role) in [("tel01", "teller"), ("sup01", "supervisor")] {
        r.ok(
            &[
                "--json", "--as", "admin", "staff", "add", "--id", id, "--name", id, "--role", role,
            ],
            PW,
        );
        let o = r.cli_new(&["--as", id, "staff", "passwd"], PW, "Changed#2026");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let pw = "Changed#2026";

    // Refusals whose input carries full numbers.
    r.refused(
        &[
            "--json",
            "--as",
            "tel01",
            "case",
            "open",
            "--name",
            "测试甲",
            "--phone",
            "1312345678",
        ],
        pw,
    );
    let v = r.ok(
        &[
            "--json",
            "--as",
            "tel01",
            "case",
            "open",
            "--name",
            "测试甲",
            "--phone",
            PHONE,
            "--lock-cause",
            "wrong-password",
        ],
        pw,
    );
    let id = v["case"]["id"].as_str().unwrap().to_string();
    let number = v["case"]["case_number"].as_str().unwrap().to_string();
    r.refused(
        &[
            "--as",
            "tel01",
            "case",
            "verify-identity",
            "--case",
            &id,
            "--kind",
            "prc-id",
            "--valid-until",
            "long-term",
            "--number",
            BAD_ID,
            "--name-on-document",
            "测试甲",
        ],
        pw,
    );
    r.refused(
        &[
            "--as",
            "tel01",
            "case",
            "verify-identity",
            "--case",
            &id,
            "--kind",
            "prc-id",
            "--valid-until",
            "long-term",
            "--number",
            ID,
            "--name-on-document",
            "别人",
        ],
        pw,
    );

    // The whole path, in text and JSON output.
    r.ok(
        &[
            "--as",
            "tel01",
            "case",
            "verify-identity",
            "--case",
            &id,
            "--kind",
            "prc-id",
            "--valid-until",
            "long-term",
            "--number",
            ID,
            "--name-on-document",
            "测试甲",
            "--online-check",
            "match",
            "--online-ref",
            "LWHC-0001",
        ],
        pw,
    );
    r.ok(
        &[
            "--json",
            "--as",
            "tel01",
            "case",
            "record-form",
            "--case",
            &id,
            "--form",
            &form,
        ],
        pw,
    );
    r.ok(
        &[
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
    // The filed copy comes back as the store keeps it: decrypted, the recorded bytes.
    let shown = r.ok(&["--json", "--as", "tel01", "case", "show", &id], pw);
    let doc = &shown["documents"][0];
    let filed = tmp.path().join("filed.pdf");
    r.ok(
        &[
            "--as",
            "tel01",
            "case",
            "document",
            "--case",
            &id,
            "--id",
            doc["id"].as_str().unwrap(),
            "--out",
            filed.to_str().unwrap(),
        ],
        pw,
    );
    let bytes = std::fs::read(&filed).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert_eq!(bytes.len() as u64, doc["bytes"].as_u64().unwrap());
    let stored = std::fs::read(tmp.path().join(doc["path"].as_str().unwrap())).unwrap();
    assert!(!stored.starts_with(b"%PDF-"), "the stored copy is sealed");
    std::fs::remove_file(&filed).unwrap();
    r.ok(
        &["--as", "tel01", "case", "confirm-signed", "--case", &id],
        pw,
    );
    r.ok(
        &["--json", "--as", "tel01", "case", "submit", "--case", &id],
        pw,
    );
    r.refused(
        &["--json", "--as", "tel01", "case", "approve", "--case", &id],
        pw,
    );
    r.ok(
        &["--json", "--as", "sup01", "case", "approve", "--case", &id],
        pw,
    );
    r.ok(
        &[
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
    r.ok(
        &[
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
    r.ok(
        &[
            "--json",
            "--as",
            "tel01",
            "case",
            "close",
            "--case",
            &id,
            "--receipt-waiver",
            "customer declined the receipt",
        ],
        pw,
    );
    r.ok(&["case", "show", &id], pw);
    r.ok(&["--json", "case", "show", &number], pw);
    r.ok(&["case", "list", "--find", "6789"], pw);
    r.ok(&["--json", "audit", "verify"], pw);
    let backup = tmp.path().join("backup.db");
    r.ok(
        &["--as", "admin", "backup", "--out", backup.to_str().unwrap()],
        PW,
    );

    // Encrypted at rest: no file under the data directory (database, WAL, documents, the
    // backup and its key record, logs) holds a full number, in any of its spellings.
    let mut at_rest = Vec::new();
    let mut stack = vec![tmp.path().to_path_buf()];
    let mut seen = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            seen += 1;
            let bytes = std::fs::read(&p).unwrap();
            for full in [
                ID,
                PHONE,
                "131 2345 6789",
                CARD,
                "6200 0000 0000 0005",
                WALLET,
            ] {
                if bytes.windows(full.len()).any(|w| w == full.as_bytes()) {
                    at_rest.push(format!("{full} in {}", p.display()));
                }
            }
        }
    }
    assert!(
        seen >= 5,
        "the database, its documents, the backup and the logs: {seen} files"
    );
    assert!(
        at_rest.is_empty(),
        "full personal numbers at rest: {at_rest:?}"
    );

    let (logs, files) = log_text(tmp.path());
    assert!(files >= 1, "no log file");
    // The logs really hold the flow.
    for want in [
        number.as_str(),
        id.as_str(),
        "case step",
        "approve",
        "confirm-unlock",
        "close",
        "tel01",
        "sup01",
        "INFO",
    ] {
        assert!(logs.contains(want), "the log lacks {want:?}:\n{logs}");
    }
    let ic = |s: &str| s.to_ascii_lowercase();
    let haystacks = [("log files", ic(&logs)), ("stdout/stderr", ic(&r.printed))];
    let mut hits = Vec::new();
    for (name, text) in &haystacks {
        for full in [ID, PHONE, "131 2345 6789", CARD, WALLET, BAD_ID] {
            let n = text.matches(&ic(full)).count();
            if n > 0 {
                hits.push(format!("{full} ×{n} in {name}"));
            }
        }
    }
    assert!(hits.is_empty(), "full personal numbers leaked: {hits:?}");
}
