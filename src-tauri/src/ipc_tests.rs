//! Four-eyes through the IPC surface: every command that authorizes a step (co-check, approve,
//! return for info, reject, confirm-unlock) is invoked the way the window invokes it — through
//! Tauri's IPC dispatch with the app's real handler and managed state, on the mock runtime
//! (its test context has no capability file: the capability is checked separately in
//! `commands::tests`) — by a supervisor who did teller steps on the case. Each is refused with
//! `four-eyes`, and the same call with a second supervisor succeeds, so the refusal is the
//! four-eyes rule and nothing else (docs/domain.md §2).

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow};
use unlockdesk_core::dto::{NewStaff, SetupInput};
use unlockdesk_core::ports::{OsEntropy, SystemClock};
use unlockdesk_core::service::Service;
use unlockdesk_core::{Counter, Role};
use unlockdesk_store::SqliteStore;

use crate::commands;
use crate::state::AppState;

const PW: &str = "Counter#2026";
/// Synthetic resident ID (GB 11643-1999 specimen body, valid check character).
const ID: &str = "11010519491231002X";
/// Synthetic unexpired passport MRZ (ICAO 9303 TD3, check digits computed): needs a co-check.
const MRZ1: &str = "P<CHNZHANG<<SAN<<<<<<<<<<<<<<<<<<<<<<<<<<<<<";
const MRZ2: &str = "E123456782CHN9005226M3404252<<<<<<<<<<<<<<08";

/// The commands that take a supervisor's credentials and authorize a step. Each has a test
/// below; `every_command_is_classified` fails when a new command is added without a decision.
const AUTHORIZING: &[&str] = &["cocheck_identity", "authorize_case", "confirm_unlock"];
/// Teller (maker) steps: core records their actor among the case's makers, and refuses that
/// person later as the authorizer (the tests below make the case through these commands).
const MAKER_STEPS: &[&str] = &[
    "open_case",
    "verify_identity",
    "record_form",
    "confirm_signed",
    "submit_case",
];
/// Case steps that neither make nor authorize (core's workflow: contacts, unlock failure,
/// close, cancel, the freeze refusal, the wallet's status and the unlock asked of the
/// operator's connector after the approval; printing is an audited read).
const OTHER_CASE_STEPS: &[&str] = &[
    "log_contact",
    "wallet_status",
    "request_unlock",
    "request_confirm_unlock",
    "attach_signed_scan",
    "record_unlock_failure",
    "close_case",
    "cancel_case",
    "refuse_authority_freeze",
    "print_document",
];
/// Session, administration, appointment import and reads: no case step at all.
const NOT_CASE_DECISIONS: &[&str] = &[
    "setup_status",
    "setup_branch",
    "unlock_store",
    "set_store_passphrase",
    "current_session",
    "sign_in",
    "sign_out",
    "lock_session",
    "unlock_session",
    "change_password",
    "today",
    "find_cases",
    "list_cases",
    "case_filters",
    "find_appointments",
    "case_view",
    "reveal_value",
    "document_status",
    "update_branch",
    "list_staff",
    "add_staff",
    "set_staff_disabled",
    "reset_staff_password",
    "unlock_staff",
    "load_demo",
    "ui_ready",
    "import_appointments",
    "printer_settings_get",
    "printer_settings_set",
    "terminal_mode",
    "server_status",
    "enrol_terminal",
    "confirm_enrolment",
    "work_alone",
    "issue_enrolment_code",
    "list_terminals",
    "revoke_terminal",
    "authorization_queue",
    "open_authorization",
    "follow_authorizations",
    "document_pages",
    // The auditor's console and retention: no step of a case's workflow (a legal hold is not
    // a change to the case; a purge destroys only final cases past their retention).
    "retention_report",
    "prepare_purge",
    "approve_purge",
    "withdraw_purge",
    "purge_batches",
    "set_legal_hold",
    "release_legal_hold",
    "legal_holds",
    "search_audit",
    "audit_reveals",
    "verify_audit",
    "export_audit_csv",
    "export_document",
    // The case's customer notifications (a read).
    "notifications",
];

#[test]
fn every_command_is_classified() {
    let mut all: Vec<&str> = AUTHORIZING
        .iter()
        .chain(MAKER_STEPS)
        .chain(OTHER_CASE_STEPS)
        .chain(NOT_CASE_DECISIONS)
        .copied()
        .collect();
    all.sort();
    let mut listed = commands::names::COMMANDS.to_vec();
    listed.sort();
    assert_eq!(all, listed);
}

/// The authorizing commands are exactly those that take a supervisor's credentials (read from
/// the command sources), so a new authorizing command cannot be listed as another kind.
#[test]
fn authorizing_commands_are_those_taking_supervisor_credentials() {
    let sources = [
        include_str!("commands/admin.rs"),
        include_str!("commands/counter.rs"),
        include_str!("commands/documents.rs"),
        include_str!("commands/session.rs"),
        include_str!("commands/terminal.rs"),
        include_str!("commands/today.rs"),
    ];
    let mut taking: Vec<&str> = Vec::new();
    for src in sources {
        for part in src.split("pub async fn ").skip(1) {
            let name = part.split(['(', '<']).next().unwrap_or("").trim();
            let params = part.split(") ->").next().unwrap_or("");
            if params.contains(": Credentials") {
                taking.push(name);
            }
        }
    }
    taking.sort();
    let mut expected = AUTHORIZING.to_vec();
    expected.sort();
    assert_eq!(taking, expected);
}

/// A branch with a teller and two supervisors, written through core before the app starts.
/// One key file for every test of this process (the desktop app needs a key source; without
/// one it asks for the branch passphrase first).
fn key_file() {
    static KEY: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = KEY.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        unlockdesk_store::keys::new_key_file(&d.path().join("branch.key")).unwrap();
        d
    });
    std::env::set_var(
        unlockdesk_store::keys::KEY_FILE_ENV,
        dir.path().join("branch.key"),
    );
}

fn seed(dir: &Path) {
    key_file();
    let store = SqliteStore::open(&dir.join(unlockdesk_store::DB_FILE)).unwrap();
    assert!(store.is_encrypted());
    let svc = Service::new(store, Arc::new(SystemClock), Arc::new(OsEntropy));
    svc.setup(
        &SetupInput {
            branch_code: "T1".into(),
            branch_name: "测试支行".into(),
            time_zone: "Asia/Shanghai".into(),
            admin_id: "admin".into(),
            admin_name: "管理员".into(),
            admin_password: PW.into(),
        },
        "test",
    )
    .unwrap();
    let admin = svc.authenticate("admin", PW, "test").unwrap();
    for (id, role) in [
        ("tel01", Role::Teller),
        ("sup01", Role::Supervisor),
        ("sup02", Role::Supervisor),
    ] {
        let first = "Initial#2026";
        svc.add_staff(
            &admin,
            &NewStaff {
                id: id.into(),
                name: id.into(),
                role,
                password: first.into(),
            },
        )
        .unwrap();
        svc.change_password(id, first, PW, "test").unwrap();
    }
}

/// The app as `run()` builds it (same handler, same managed state type) on the mock runtime.
struct Desk {
    _app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    _dir: tempfile::TempDir,
}

impl Desk {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        seed(dir.path());
        // This terminal prints on the test run's CUPS queue (chosen as in the window).
        std::fs::write(dir.path().join("printer.txt"), test_printer()).unwrap();
        let data_dir = dir.path().to_path_buf();
        let app = mock_builder()
            .invoke_handler(commands::handler())
            .build(tauri::test::mock_context(tauri::test::noop_assets()))
            .unwrap();
        app.manage(AppState::open_at(data_dir));
        let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        Desk {
            _app: app,
            window,
            _dir: dir,
        }
    }

    /// One IPC call as the window makes it: `Ok(result)` or `Err(CoreError as JSON)`.
    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        tauri::test::get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().unwrap())
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    fn sign_in(&self, who: &str) {
        self.ok("sign_in", json!({"staffId": who, "password": PW}));
    }

    /// sup01, signed in at this terminal, does the teller steps up to `until` (inclusive).
    fn case_made_by_sup01(&self, passport: bool, until: &str) -> String {
        self.sign_in("sup01");
        let v = self.ok(
            "open_case",
            json!({"input": {"customer_name": "测试甲", "phone": "13123456789",
                             "lock_cause": "wrong-password"}, "idem": "o1"}),
        );
        let id = v["case"]["id"].as_str().unwrap().to_string();
        let identity = if passport {
            json!({"kind": "passport-mrz", "number": MRZ1, "mrz_line2": MRZ2,
                   "name_on_document": "Zhang San"})
        } else {
            json!({"kind": "prc-id", "number": ID, "name_on_document": "测试甲",
                   "valid_until": "long-term",
                   "online_check": {"result": "match", "reference": "LWHC-IPC-1"}})
        };
        self.ok(
            "verify_identity",
            json!({"caseId": id, "input": identity, "idem": "v1"}),
        );
        if until == "verify_identity" {
            return id;
        }
        self.ok(
            "record_form",
            json!({"caseId": id, "form": form(), "idem": "f1"}),
        );
        let printed = self.ok(
            "print_document",
            json!({"caseId": id, "kind": "application", "copy": "bank"}),
        );
        assert_eq!(printed["delivery"]["channel"], "cups", "{printed}");
        self.ok("confirm_signed", json!({"caseId": id, "idem": "s1"}));
        self.ok("submit_case", json!({"caseId": id, "idem": "sub1"}));
        id
    }
}

/// The CUPS queue of the test run: `scripts/cups-test.sh start` (run by `make test-rust`)
/// starts a real cupsd with Debian's virtual PDF printer and exports its name.
fn test_printer() -> String {
    std::env::var("UNLOCKDESK_TEST_PRINTER").unwrap_or_else(|_| {
        panic!(
            "UNLOCKDESK_TEST_PRINTER is not set: these tests print through a real CUPS; run \
             them with `make test-rust`, or `eval \"$(scripts/cups-test.sh start)\"` first"
        )
    })
}

/// The shared synthetic application form (the CLI walkthrough uses the same file).
fn form() -> Value {
    serde_json::from_str(include_str!("../../tests/fixtures/form.json")).unwrap()
}

/// The maker typed in another case (`SUP01`): one person with `sup01`.
fn maker() -> Value {
    json!({"staff_id": "SUP01", "password": PW})
}
fn checker() -> Value {
    json!({"staff_id": "sup02", "password": PW})
}

fn assert_four_eyes(r: Result<Value, Value>) {
    let e = r.expect_err("a maker must not authorize");
    assert_eq!(e["code"], "four-eyes", "{e}");
}

#[test]
fn cocheck_identity_refuses_a_maker() {
    let d = Desk::start();
    let id = d.case_made_by_sup01(true, "verify_identity");
    let args = |sup: Value, idem: &str| json!({"caseId": id, "supervisor": sup, "idem": idem});
    assert_four_eyes(d.call("cocheck_identity", args(maker(), "c1")));
    let v = d.ok("cocheck_identity", args(checker(), "c2"));
    assert_eq!(
        v["case"]["identity"]["cochecked_by"], "sup02",
        "the second supervisor's co-check is recorded"
    );
}

fn authorize_refuses_a_maker(decision: &str, reason_code: Option<&str>, after: &str) {
    let d = Desk::start();
    let id = d.case_made_by_sup01(false, "submit_case");
    let args = |sup: Value, idem: &str| {
        json!({"caseId": id, "supervisor": sup, "decision": decision,
               "reasonCode": reason_code, "reason": "checked at the counter", "idem": idem})
    };
    assert_four_eyes(d.call("authorize_case", args(maker(), "a1")));
    // A teller signed in instead changes nothing: the typed supervisor is still the maker.
    d.ok("sign_out", json!({}));
    d.sign_in("tel01");
    assert_four_eyes(d.call("authorize_case", args(maker(), "a2")));
    let v = d.ok("authorize_case", args(checker(), "a3"));
    assert_eq!(v["case"]["state"], after);
}

#[test]
fn authorize_case_approve_refuses_a_maker() {
    authorize_refuses_a_maker("approve", None, "approved");
}

#[test]
fn authorize_case_return_for_info_refuses_a_maker() {
    authorize_refuses_a_maker(
        "return-for-info",
        Some("form-incomplete"),
        "returned-for-info",
    );
}

#[test]
fn authorize_case_reject_refuses_a_maker() {
    authorize_refuses_a_maker("reject", Some("suspected-fraud"), "rejected");
}

#[test]
fn confirm_unlock_refuses_a_maker() {
    let d = Desk::start();
    let id = d.case_made_by_sup01(false, "submit_case");
    d.ok(
        "authorize_case",
        json!({"caseId": id, "supervisor": checker(), "decision": "approve",
               "reasonCode": null, "reason": "", "idem": "a1"}),
    );
    d.ok(
        "log_contact",
        json!({"caseId": id, "input": {"channel": "phone", "ticket": "OP-1",
               "result": "unlocked"}, "idem": "l1"}),
    );
    let args = |sup: Value, idem: &str| {
        json!({"caseId": id, "supervisor": sup,
               "input": {"operator_reference": "OP-1", "notified_via": "sms"}, "idem": idem})
    };
    assert_four_eyes(d.call("confirm_unlock", args(maker(), "u1")));
    let v = d.ok("confirm_unlock", args(checker(), "u2"));
    assert_eq!(v["case"]["state"], "unlocked");
}

/// Printing through the window's command: the bank copy goes to this terminal's CUPS queue,
/// the job id and outcome are recorded on the case, and only then may the signed paper be
/// confirmed; a queue CUPS does not know is recorded as a failed print that counts for
/// nothing (docs/domain.md §7: print, then sign).
#[test]
fn print_document_goes_through_cups_and_gates_the_signature() {
    let d = Desk::start();
    // Nobody signed in: the terminal's printer cannot be redirected.
    let refused = d
        .call("printer_settings_set", json!({"printer": "ELSEWHERE"}))
        .expect_err("no session");
    assert_eq!(refused["code"], "session-locked", "{refused}");
    let id = d.case_made_by_sup01(false, "verify_identity");
    d.ok(
        "record_form",
        json!({"caseId": id, "form": form(), "idem": "f1"}),
    );
    let refused = d
        .call("confirm_signed", json!({"caseId": id, "idem": "s0"}))
        .expect_err("signing before the print");
    assert!(
        refused["message"].as_str().unwrap().contains("print"),
        "{refused}"
    );

    d.ok("printer_settings_set", json!({"printer": "NO-SUCH-QUEUE"}));
    let failed = d.ok(
        "print_document",
        json!({"caseId": id, "kind": "application", "copy": "bank"}),
    );
    assert_eq!(failed["delivery"]["outcome"], "failed", "{failed}");
    assert!(
        !failed["delivery"]["message"].as_str().unwrap().is_empty(),
        "{failed}"
    );
    let view = d.ok("case_view", json!({"caseId": id}));
    assert_eq!(view["form_printed"], false);
    assert!(d
        .call("confirm_signed", json!({"caseId": id, "idem": "s1"}))
        .is_err());

    let printer = test_printer();
    let settings = d.ok("printer_settings_set", json!({"printer": printer}));
    assert_eq!(settings["selected"], printer.as_str());
    assert!(
        settings["printers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == printer.as_str()),
        "{settings}"
    );
    let printed = d.ok(
        "print_document",
        json!({"caseId": id, "kind": "application", "copy": "bank"}),
    );
    assert_eq!(printed["delivery"]["channel"], "cups");
    assert_eq!(printed["delivery"]["printer"], printer.as_str());
    let job = printed["delivery"]["job_id"].as_str().unwrap();
    assert!(job.starts_with(&format!("{printer}-")), "{job}");
    let view = d.ok("case_view", json!({"caseId": id}));
    assert_eq!(view["form_printed"], true);
    let prints = view["case"]["prints"].as_array().unwrap();
    assert_eq!(prints.len(), 2);
    assert_eq!(prints[1]["job_id"], job);
    d.ok("confirm_signed", json!({"caseId": id, "idem": "s2"}));
}

/// How a set-up terminal works is an administrator's choice: nobody signed in, or a teller, is
/// refused before anything is sent; an administrator's enrolment reaches the network (here an
/// address where nothing listens: `unavailable`) and keeps nothing; the admin's terminal list
/// exists only in branch mode.
#[test]
fn only_an_administrator_changes_the_terminal_mode() {
    let desk = Desk::start();
    let mode = desk.ok("terminal_mode", json!({}));
    assert_eq!(mode["branch"], false);
    assert_eq!(mode["source"], "alone");
    let enrol = json!({"server": "http://127.0.0.1:9", "code": "ABCDEFGHJKLM"});
    let e = desk.call("enrol_terminal", enrol.clone()).unwrap_err();
    assert_eq!(e["code"], "session-locked", "{e}");
    desk.sign_in("tel01");
    for (cmd, args) in [("enrol_terminal", enrol.clone()), ("work_alone", json!({}))] {
        let e = desk.call(cmd, args).unwrap_err();
        assert_eq!(e["code"], "forbidden", "{cmd}: {e}");
    }
    let e = desk.call("list_terminals", json!({})).unwrap_err();
    assert_eq!(e["code"], "forbidden", "{e}");
    desk.ok("sign_out", json!({}));
    desk.sign_in("admin");
    let e = desk.call("enrol_terminal", enrol).unwrap_err();
    assert_eq!(e["code"], "unavailable", "{e}");
    let e = desk
        .call("confirm_enrolment", json!({"accept": true}))
        .unwrap_err();
    assert_eq!(e["code"], "not-found", "{e}");
    assert!(!desk._dir.path().join(crate::terminal::FILE).exists());
    assert_eq!(desk.ok("terminal_mode", json!({}))["branch"], false);
    // Alone, the server is always "reachable": the window never shows the offline banner.
    assert_eq!(desk.ok("server_status", json!({}))["reachable"], true);
}
