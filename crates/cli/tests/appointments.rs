//! `appointments import | find | today | no-shows` end to end on real files and a real SQLite
//! database, or with UNLOCKDESK_CLI_TEST_STORE=postgres (inside scripts/with-postgres.sh) a fresh
//! PostgreSQL database each (see [`test_db`]). Every person here is synthetic; ID numbers carry
//! valid check characters.

use std::ffi::{OsStr, OsString};
use std::process::{Command, Output};

use chrono::{Duration, NaiveDate, Utc};
use serde_json::{json, Value};
use unlockdesk_core::identity::mod11_2_check_char;

const BIN: &str = env!("CARGO_BIN_EXE_unlockdesk-cli");
const PW: &str = "Counter#2026";
const HEADER: &str =
    "reference,name,phone,id_type,id_number,wallet_operator,lock_cause,slot_start,slot_end,notes";

// The store selection of tests/cli.rs (each test file is its own crate): see there.

/// UNLOCKDESK_CLI_TEST_STORE=postgres: the tests' stores are PostgreSQL databases. Unset, empty
/// or `sqlite`: files; anything else fails rather than pass as a PostgreSQL run.
fn stores_on_postgres() -> bool {
    match std::env::var("UNLOCKDESK_CLI_TEST_STORE").as_deref() {
        Ok("postgres") => true,
        Ok("" | "sqlite") | Err(_) => false,
        Ok(other) => panic!("UNLOCKDESK_CLI_TEST_STORE={other}: expected postgres or sqlite"),
    }
}

/// One test's `--db`: a file, or a database on the throwaway cluster dropped with the value
/// (`pg`: its cluster URL and name).
struct TestDb {
    arg: OsString,
    pg: Option<(String, String)>,
}

impl AsRef<OsStr> for TestDb {
    fn as_ref(&self) -> &OsStr {
        &self.arg
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((cluster, name)) = &self.pg else {
            return;
        };
        let Ok(cfg) = cluster.parse::<postgres::Config>() else {
            return;
        };
        if let Ok(mut admin) = cfg.connect(postgres::NoTls) {
            // FORCE: a CLI process just gone may still hold its session for a moment.
            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            if let Err(e) = admin.batch_execute(&sql) {
                eprintln!("could not drop the test database {name}: {e}");
            }
        }
    }
}

/// `url` naming the database `name` instead (TCP or socket form of the URL).
fn with_dbname(url: &str, name: &str) -> String {
    let start = url.find("://").map(|i| i + 3).unwrap_or(0);
    let query = url[start..]
        .find('?')
        .map(|i| start + i)
        .unwrap_or(url.len());
    let slash = url[start..query]
        .find('/')
        .map(|i| start + i)
        .unwrap_or(query);
    format!("{}/{name}{}", &url[..slash], &url[query..])
}

/// `dir/u.db`, or with UNLOCKDESK_CLI_TEST_STORE=postgres a new, empty database on
/// $UNLOCKDESK_DATABASE_URL's cluster (required then: never a fallback to a file).
fn test_db(dir: &tempfile::TempDir) -> TestDb {
    if !stores_on_postgres() {
        let arg = dir.path().join("u.db").into_os_string();
        return TestDb { arg, pg: None };
    }
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let cluster = std::env::var("UNLOCKDESK_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .expect(
            "UNLOCKDESK_CLI_TEST_STORE=postgres needs UNLOCKDESK_DATABASE_URL: run through \
             scripts/with-postgres.sh",
        )
        .trim()
        .to_string();
    let name = format!(
        "ud_cli_apt_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let cfg: postgres::Config = cluster.parse().expect("UNLOCKDESK_DATABASE_URL parses");
    let mut admin = cfg
        .connect(postgres::NoTls)
        .expect("connect to the test cluster");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create a test database");
    let arg = with_dbname(&cluster, &name).into();
    TestDb {
        arg,
        pg: Some((cluster, name)),
    }
}

/// `--db` is a file or a `postgres://` URL.
fn cli<D: AsRef<OsStr> + ?Sized>(db: &D, args: &[&str], pw: Option<&str>) -> Output {
    let mut c = Command::new(BIN);
    if db.as_ref().to_string_lossy().starts_with("postgres") {
        // Logs of a run on PostgreSQL go to the data directory: not the user's.
        c.env(
            "UNLOCKDESK_DATA_DIR",
            std::env::temp_dir().join("unlockdesk-cli-test"),
        );
    }
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

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

fn ok<D: AsRef<OsStr> + ?Sized>(db: &D, args: &[&str], pw: Option<&str>) -> Value {
    let o = cli(db, args, pw);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    json_of(&o)
}

/// A synthetic resident ID number with a valid MOD 11-2 check character.
fn id(body17: &str) -> String {
    format!("{body17}{}", mod11_2_check_char(body17).unwrap())
}

/// The branch's local date (Asia/Shanghai, UTC+8, no daylight saving).
fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

fn setup<D: AsRef<OsStr> + ?Sized>(db: &D) {
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
    ok(
        db,
        &[
            "--json", "--as", "admin", "staff", "add", "--id", "tel01", "--name", "tel01",
            "--role", "teller",
        ],
        Some(PW),
    );
    let o = Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(["--as", "tel01", "staff", "passwd"])
        // Logs of a run on PostgreSQL go to the data directory: never the user's.
        .env(
            "UNLOCKDESK_DATA_DIR",
            std::env::temp_dir().join("unlockdesk-cli-test"),
        )
        .env("UNLOCKDESK_PASSWORD", PW)
        .env("UNLOCKDESK_NEW_PASSWORD", "Changed#2026")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

struct Book {
    today: String,
    yesterday: String,
    id_a: String,
    id_b: String,
}

impl Book {
    fn new() -> Self {
        let t = today();
        Book {
            today: t.to_string(),
            yesterday: (t - Duration::days(1)).to_string(),
            id_a: id("11010519800101123"),
            id_b: id("31010419750505456"),
        }
    }

    /// Three good rows (two today, one yesterday) and five bad ones.
    fn csv(&self) -> String {
        let (t, y) = (&self.today, &self.yesterday);
        let (a, b) = (&self.id_a, &self.id_b);
        [
            HEADER.to_string(),
            format!("APT-001,张伟,13912345671,prc-id,{a},钱包服务商B,wrong-password,{t}T09:00,{t}T09:30,\"late, call first\""),
            format!("APT-002,李娜,+86 139 8765 4322,prc-id,{b},支付平台C,self-locked,{t}T10:00,{t}T10:30,"),
            format!("APT-003,王芳,13700001113,passport-mrz,E12345678,钱包服务商B,abnormal-activity,{y}T14:00,{y}T14:30,"),
            // bad: phone prefix
            format!("APT-004,赵敏,12345678901,prc-id,0017,A,wrong-password,{t}T11:00,{t}T11:30,"),
            // bad: check character
            format!("APT-005,孙强,13512345678,prc-id,{},A,wrong-password,{t}T11:00,{t}T11:30,", bad_check(a)),
            // bad: end before start, unknown lock cause
            format!("APT-006,周杰,13512345679,prc-id,002X,A,forgot,{t}T12:00,{t}T11:00,"),
            // bad: reference missing
            format!(",吴霞,13512345670,prc-id,1234,A,wrong-password,{t}T12:00,{t}T12:30,"),
            // bad: wrong field count
            "APT-008,郑涛".to_string(),
        ]
        .join("\r\n")
            + "\r\n"
    }
}

fn bad_check(id: &str) -> String {
    let last = id.chars().last().unwrap();
    format!("{}{}", &id[..17], if last == '1' { '2' } else { '1' })
}

fn refs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| a["reference"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn import_report_reimport_and_lookups() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_db(&dir);
    setup(&db);
    let book = Book::new();
    let file = dir.path().join("book.csv");
    std::fs::write(&file, book.csv()).unwrap();
    let file_s = file.to_str().unwrap();

    // Without --as the actor is the system `import`; exit 0 even with rejected rows.
    let report = ok(&db, &["--json", "appointments", "import", file_s], None);
    assert_eq!(
        report,
        json!({
            "imported": 3, "updated": 0, "unchanged": 0,
            "rejected": [
                {"row": 4, "field": "phone", "code": "bad-phone",
                 "reason": report["rejected"][0]["reason"]},
                {"row": 5, "field": "id_number", "code": "bad-id-check-digit",
                 "reason": report["rejected"][1]["reason"]},
                {"row": 6, "field": "lock_cause", "code": "unknown-value", "arg": "forgot",
                 "reason": report["rejected"][2]["reason"]},
                {"row": 6, "field": "slot_end", "code": "slot-end-before-start",
                 "reason": "the slot must end after it starts"},
                {"row": 7, "field": "reference", "code": "missing-field",
                 "reason": "reference is required"},
                {"row": 8, "field": "row", "code": "field-count", "arg": "2",
                 "reason": "expected 10 fields, found 2"},
            ]
        })
    );
    // The text output names each problem's code beside its English reason.
    let o = cli(&db, &["appointments", "import", file_s], None);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(
            "\n  row 6: slot_end: [slot-end-before-start] the slot must end after it starts\n"
        ) && text.contains("\n  row 8: row: [field-count] expected 10 fields, found 2"),
        "{text}"
    );
    assert!(
        report["rejected"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("check"),
        "{}",
        report["rejected"][1]
    );
    assert!(
        !report.to_string().contains(&book.id_a[..12]),
        "no full ID number in the report"
    );

    // Re-import: nothing changes.
    let again = ok(&db, &["--json", "appointments", "import", file_s], None);
    assert_eq!(
        (
            again["imported"].as_u64(),
            again["updated"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(3))
    );

    // A changed row (new slot end) updates, as a teller.
    let changed = book.csv().replace(
        &format!("{}T09:30", book.today),
        &format!("{}T09:45", book.today),
    );
    std::fs::write(&file, changed).unwrap();
    let upd = ok(
        &db,
        &["--json", "--as", "tel01", "appointments", "import", file_s],
        Some("Changed#2026"),
    );
    assert_eq!(
        (
            upd["imported"].as_u64(),
            upd["updated"].as_u64(),
            upd["unchanged"].as_u64()
        ),
        (Some(0), Some(1), Some(2))
    );
    ok(&db, &["--json", "audit", "verify"], None);

    // Lookups by each key find the right appointment, masked, today's first.
    let find = |q: &str| ok(&db, &["--json", "appointments", "find", q], None);
    assert_eq!(refs(&find("apt-001")), vec!["APT-001"]);
    assert_eq!(refs(&find("139 1234 5671")), vec!["APT-001"]);
    assert_eq!(refs(&find("4322")), vec!["APT-002"]);
    assert_eq!(refs(&find(&book.id_b)), vec!["APT-002"]);
    assert_eq!(refs(&find(&book.id_a[14..])), vec!["APT-001"]);
    assert_eq!(refs(&find("E12345678")), vec!["APT-003"]);
    assert_eq!(refs(&find("王芳")), vec!["APT-003"]);
    assert_eq!(refs(&find("李")), vec!["APT-002"]);
    assert_eq!(refs(&find("张伟")), vec!["APT-001"]);
    let v = find("13912345671");
    assert_eq!(v[0]["phone"], "139****5671");
    assert_eq!(
        v[0]["id_number"].as_str().unwrap(),
        format!("110***********{}", &book.id_a[14..])
    );
    assert_eq!(
        v[0]["slot_end"].as_str().unwrap(),
        format!("{}T09:45:00", book.today)
    );
    assert_eq!(refs(&find("不存在")), Vec::<String>::new());

    // Today's queue: the two rows of today, by slot.
    assert_eq!(
        refs(&ok(&db, &["--json", "appointments", "today"], None)),
        vec!["APT-001", "APT-002"]
    );

    // End of day for yesterday: APT-003 was waiting.
    let o = cli(
        &db,
        &[
            "--json",
            "appointments",
            "no-shows",
            "--day",
            &book.yesterday,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "needs --as");
    let n = ok(
        &db,
        &[
            "--json",
            "--as",
            "tel01",
            "appointments",
            "no-shows",
            "--day",
            &book.yesterday,
        ],
        Some("Changed#2026"),
    );
    assert_eq!(n, json!({"day": book.yesterday, "no_shows": 1}));
    assert_eq!(find("E12345678")[0]["status"], "no-show");
}

#[test]
fn wrong_header_is_exit_1_and_gb18030_json_import() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_db(&dir);
    setup(&db);
    let t = today().to_string();

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "ref,name\nA,B\n").unwrap();
    let o = cli(
        &db,
        &["--json", "appointments", "import", bad.to_str().unwrap()],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let e = json_of(&o);
    assert_eq!(e["code"], "invalid");
    assert_eq!(e["fields"][0]["field"], "header");

    // GB18030 bytes with the Chinese header.
    let zh = "预约号,姓名,手机号,证件类型,证件号码,钱包运营机构,锁定原因,开始时间,结束时间,备注";
    let text = format!(
        "{zh}\nGB-1,张三,13812345678,prc-id,0021,钱包服务商B,wrong-password,{t}T15:00,{t}T15:30,\n"
    );
    let (file_bytes, _, unmappable) = encoding_rs::GB18030.encode(&text);
    assert!(!unmappable && std::str::from_utf8(&file_bytes).is_err());
    let gb = dir.path().join("gb.csv");
    std::fs::write(&gb, &file_bytes).unwrap();
    let r = ok(
        &db,
        &["--json", "appointments", "import", gb.to_str().unwrap()],
        None,
    );
    assert_eq!(
        r,
        json!({"imported": 1, "updated": 0, "unchanged": 0, "rejected": []})
    );
    let v = ok(&db, &["--json", "appointments", "find", "张三"], None);
    assert_eq!(refs(&v), vec!["GB-1"]);

    // JSON with the same keys.
    let j = dir.path().join("book.json");
    let body = json!([{"reference": "J-1", "name": "刘洋", "phone": "13612345678", "id_type": "prc-id", "id_number": "1234",
        "wallet_operator": "B", "lock_cause": "payment-failures", "slot_start": format!("{t}T16:00"), "slot_end": format!("{t}T16:30"), "notes": ""}]);
    std::fs::write(&j, body.to_string()).unwrap();
    let r = ok(
        &db,
        &["--json", "appointments", "import", j.to_str().unwrap()],
        None,
    );
    assert_eq!(r["imported"], 1);
    assert_eq!(
        refs(&ok(&db, &["--json", "appointments", "find", "1234"], None)),
        vec!["J-1"]
    );
    // Text output without --json.
    let o = cli(&db, &["appointments", "import", j.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout)
        .starts_with("imported 0, updated 0, unchanged 1, rejected 0"));
}

/// Issue 12 item 8: a missing or unreadable import file is an invalid input (exit 1), not a
/// usage error: one sentence naming the file; with --json `{code, message, fields}`.
#[test]
fn a_missing_import_file_is_invalid_in_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_db(&dir);
    setup(&db);
    let o = cli(&db, &["appointments", "import", "NOFILE"], None);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end(), "invalid: the file NOFILE does not exist");
    assert!(o.stdout.is_empty());
    let o = cli(&db, &["--json", "appointments", "import", "NOFILE"], None);
    assert_eq!(o.status.code(), Some(1));
    let e = json_of(&o);
    assert_eq!(e["code"], "invalid");
    assert_eq!(e["message"], "the file NOFILE does not exist");
    assert_eq!(
        e["fields"],
        json!([{"field": "file", "rule": "unreadable", "message": "the file NOFILE does not exist"}])
    );
    // A directory is no file either.
    let d = dir.path().to_str().unwrap();
    let o = cli(&db, &["--json", "appointments", "import", d], None);
    assert_eq!(o.status.code(), Some(1));
    let message = json_of(&o)["message"].as_str().unwrap().to_string();
    assert!(
        message.contains(d) && message.contains("directory"),
        "{message}"
    );
    // The form file of record-form is the same kind of problem.
    let o = cli(
        &db,
        &[
            "--json",
            "--as",
            "tel01",
            "case",
            "record-form",
            "--case",
            "T1-1",
        ],
        Some("Changed#2026"),
    );
    assert_eq!(o.status.code(), Some(2), "--form is required: usage");
    let o = cli(
        &db,
        &[
            "--json",
            "--as",
            "tel01",
            "case",
            "record-form",
            "--case",
            "T1-1",
            "--form",
            "NOFORM.json",
        ],
        Some("Changed#2026"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json_of(&o)["fields"][0]["field"], "form");
}

/// Terminal columns of a string: CJK ideographs (the names here) take two.
fn columns(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}

/// Issue 12 item 8: `appointments today` lines up its columns for names of any width.
#[test]
fn appointments_today_columns_align_with_cjk_names() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_db(&dir);
    setup(&db);
    let t = today().to_string();
    let rows = [
        ("W-1", "欧阳娜娜", "13912345671", "wrong-password"),
        ("W-2", "张伟", "13912345672", "self-locked"),
        ("W-3", "Anna Li", "13912345673", "payment-failures"),
        ("W-4", "李", "13912345674", "abnormal-activity"),
    ];
    let mut csv = format!("{HEADER}\n");
    for (i, (r, name, phone, cause)) in rows.iter().enumerate() {
        csv.push_str(&format!(
            "{r},{name},{phone},prc-id,{:04},B,{cause},{t}T1{i}:00,{t}T1{i}:30,\n",
            1000 + i
        ));
    }
    let file = dir.path().join("w.csv");
    std::fs::write(&file, csv).unwrap();
    let r = ok(
        &db,
        &["--json", "appointments", "import", file.to_str().unwrap()],
        None,
    );
    assert_eq!(r["imported"], 4, "{r}");
    let o = cli(&db, &["appointments", "today"], None);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    // The column after the name (the masked phone) starts at the same terminal column.
    let starts: Vec<usize> = lines
        .iter()
        .map(|l| columns(&l[..l.find("139****").unwrap()]))
        .collect();
    assert!(starts.iter().all(|s| *s == starts[0]), "{starts:?}\n{text}");
    // Slots are shown as booked, in the branch's local time.
    assert!(lines[0].contains(&format!("{t} 10:00-10:30")), "{text}");
}
