//! The branch server over real HTTP (the `unlockdesk-server` binary on a real store): the
//! session check before anything else, roles and four-eyes, bad and oversized bodies, ended
//! sessions, the sign-in flood limit, versions, browsers, TLS with a pinned fingerprint,
//! enrolment of a terminal on another address, SIGTERM, and two servers on one PostgreSQL
//! database.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use unlockdesk_client::{Connection, Remote};
use unlockdesk_conformance::{setup, to_submitted, walk_in, PW};
use unlockdesk_core::dto::*;
use unlockdesk_core::ports::{OsEntropy, SystemClock};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;

const BIN: &str = env!("CARGO_BIN_EXE_unlockdesk-server");

/// A running server; killed when dropped.
struct Server {
    child: Child,
    url: String,
    fingerprint: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: &str, extra: &[&str], data_dir: &Path) -> Server {
    let mut child = Command::new(BIN)
        .args(["--db", db])
        .args(extra)
        .arg("--data-dir")
        .arg(data_dir)
        .env("UNLOCKDESK_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    let mut fingerprint = None;
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 {
        if let Some(f) = line
            .trim()
            .strip_prefix("certificate SHA-256 fingerprint: ")
        {
            fingerprint = Some(f.to_string());
        }
        if let Some(u) = line.trim().strip_prefix("UNLOCKDESK_SERVER_READY ") {
            url = u.to_string();
            break;
        }
        line.clear();
    }
    assert!(!url.is_empty(), "the server never said it was ready");
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = out.read_to_end(&mut sink);
    });
    Server {
        child,
        url,
        fingerprint,
        _dir: None,
    }
}

/// A set-up branch (admin, tel01, tel02, sup01, sup02, every password `PW`) on a new
/// embedded-store file, served on loopback.
fn branch_server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    {
        let svc = Service::new(
            unlockdesk_store::SqliteStore::open(&db).unwrap(),
            Arc::new(SystemClock),
            Arc::new(OsEntropy),
        );
        setup(&svc);
    }
    let mut s = start(
        db.to_str().unwrap(),
        &["--listen", "127.0.0.1:0"],
        dir.path(),
    );
    s._dir = Some(dir);
    s
}

fn client(s: &Server) -> Remote {
    Remote::new(Connection {
        url: s.url.clone(),
        fingerprint: s.fingerprint.clone(),
        terminal: None,
        terminal_name: "http-test".into(),
        connect_timeout: Duration::from_secs(5),
    })
    .unwrap()
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(20))
        .build()
}

/// A raw request: (status, JSON body or Null).
fn raw(
    method: &str,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> (u16, Value) {
    let mut r = agent().request(method, url);
    if let Some(t) = token {
        r = r.set("authorization", &format!("Bearer {t}"));
    }
    for (k, v) in headers {
        r = r.set(k, v);
    }
    let res = match body {
        Some(b) => r.set("content-type", "application/json").send_bytes(b),
        None => r.call(),
    };
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    assert!(
        resp.header("x-unlockdesk-version").is_some(),
        "{method} {url}: every response names the server's version"
    );
    let status = resp.status();
    let mut s = String::new();
    resp.into_reader().read_to_string(&mut s).unwrap();
    (status, serde_json::from_str(&s).unwrap_or(Value::Null))
}

/// Send only the head of a POST announcing `len` bytes of JSON; (status, raw answer).
fn announce(url: &str, token: &str, path: &str, len: usize) -> (u16, String) {
    let addr = url.trim_start_matches("http://");
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        c,
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {len}\r\n\r\n"
    )
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = c.read(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn sign_in(url: &str, staff: &str, pw: &str) -> (u16, Value) {
    raw(
        "POST",
        &format!("{url}/api/v1/sessions"),
        None,
        &[],
        Some(
            json!({"staff_id": staff, "password": pw})
                .to_string()
                .as_bytes(),
        ),
    )
}

fn token(url: &str, staff: &str) -> String {
    let (st, v) = sign_in(url, staff, PW);
    assert_eq!(st, 201, "{v}");
    v["token"].as_str().unwrap().to_string()
}

const NO_CASE: &str = "00000000-0000-4000-8000-000000000000";

/// Every route but the four open ones, with a real and a made-up path.
fn protected() -> Vec<(&'static str, String)> {
    let c = NO_CASE;
    let mut v: Vec<(&str, String)> = vec![
        ("GET", "/api/v1/sessions/current".into()),
        ("DELETE", "/api/v1/sessions/current".into()),
        ("POST", "/api/v1/sessions/current/password".into()),
        ("POST", "/api/v1/terminals/codes".into()),
        ("GET", "/api/v1/terminals".into()),
        ("POST", "/api/v1/terminals/term-000000000000/revoke".into()),
        ("GET", "/api/v1/branch".into()),
        ("PUT", "/api/v1/branch".into()),
        ("GET", "/api/v1/today".into()),
        ("GET", "/api/v1/staff".into()),
        ("POST", "/api/v1/staff".into()),
        ("POST", "/api/v1/staff/tel01/password".into()),
        ("POST", "/api/v1/staff/tel01/disabled".into()),
        ("POST", "/api/v1/staff/tel01/unlock".into()),
        ("POST", "/api/v1/cases".into()),
        ("POST", "/api/v1/cases/query".into()),
        ("GET", "/api/v1/cases/filters".into()),
        ("GET", "/api/v1/cases/search?q=1234".into()),
        ("GET", format!("/api/v1/cases/{c}")),
        ("GET", "/api/v1/cases/not-a-uuid".into()),
        ("GET", format!("/api/v1/cases/{c}/audit")),
        ("POST", format!("/api/v1/cases/{c}/reveal")),
        ("POST", format!("/api/v1/cases/{c}/prints")),
        ("POST", format!("/api/v1/cases/{c}/prints/x/delivery")),
        ("GET", format!("/api/v1/cases/{c}/documents/x")),
        ("POST", format!("/api/v1/cases/{c}/render")),
        ("GET", "/api/v1/audit/verify".into()),
        ("POST", "/api/v1/appointments".into()),
        ("GET", "/api/v1/appointments/today".into()),
        ("GET", "/api/v1/appointments/search?q=x".into()),
        ("POST", "/api/v1/appointments/import?file_name=a.csv".into()),
        ("POST", "/api/v1/appointments/no-shows".into()),
        ("POST", "/api/v1/backup".into()),
        ("GET", "/api/v1/notifications".into()),
        ("GET", format!("/api/v1/notifications?case={c}")),
        ("POST", "/api/v1/notifications/deliver".into()),
        ("GET", "/api/v1/no-such-route".into()),
        ("GET", "/elsewhere".into()),
    ];
    for step in [
        "identity",
        "cocheck",
        "form",
        "signed",
        "submit",
        "authorize",
        "contacts",
        "unlock",
        "unlock-failure",
        "close",
        "cancel",
        "refuse-freeze",
        "wallet-status",
        "request-unlock",
    ] {
        v.push(("POST", format!("/api/v1/cases/{c}/{step}")));
    }
    v
}

#[test]
fn every_protected_route_answers_401_before_looking_at_anything() {
    let s = branch_server();
    let bad_tokens = [
        None,
        Some("not-a-token"),
        // Well formed, but no such session.
        Some("0000000000000000000000000000000000000000000000000000000000000000"),
    ];
    for (method, path) in protected() {
        for t in bad_tokens {
            // A body that is not even JSON: the session check comes first.
            let (st, v) = raw(method, &format!("{}{path}", s.url), t, &[], Some(b"{oops"));
            assert_eq!(st, 401, "{method} {path} token {t:?}: {v}");
            assert_eq!(v["code"], "session-expired", "{method} {path}: {v}");
        }
    }
    // The open ones answer without a token.
    let (st, v) = raw("GET", &format!("{}/api/v1/health", s.url), None, &[], None);
    assert_eq!((st, v["status"].as_str()), (200, Some("ok")));
    assert_eq!(v["store"], "ok");
    let (st, v) = raw(
        "GET",
        &format!("{}/api/v1/openapi.json", s.url),
        None,
        &[],
        None,
    );
    assert_eq!(st, 200);
    assert!(v["openapi"].as_str().unwrap_or("").starts_with('3'), "{v}");
}

#[test]
fn bad_bodies_name_the_field_and_oversized_ones_are_413() {
    let s = branch_server();
    let t = token(&s.url, "tel01");
    let post = |path: &str, body: &[u8], headers: &[(&str, &str)]| {
        raw(
            "POST",
            &format!("{}{path}", s.url),
            Some(&t),
            headers,
            Some(body),
        )
    };
    let (st, v) = post("/api/v1/cases", b"{oops", &[]);
    assert_eq!((st, v["code"].as_str()), (400, Some("invalid")), "{v}");
    assert_eq!(v["fields"][0]["rule"], "json");
    let (st, v) = post("/api/v1/cases", br#"{"customer_name": 5}"#, &[]);
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["fields"][0]["field"], "customer_name", "{v}");
    // The core's own rule, with the field named.
    let (st, v) = post(
        "/api/v1/cases",
        br#"{"customer_name": "", "phone": "123"}"#,
        &[],
    );
    assert_eq!(st, 400, "{v}");
    assert!(!v["fields"].as_array().unwrap().is_empty(), "{v}");
    let (st, v) = post(&format!("/api/v1/cases/{}/submit", "nope"), b"{}", &[]);
    assert_eq!(
        (st, v["fields"][0]["field"].as_str()),
        (400, Some("case_id"))
    );
    let (st, v) = post(
        &format!("/api/v1/cases/{NO_CASE}/submit"),
        b"{}",
        &[("idempotency-key", "bad key with spaces")],
    );
    assert_eq!(
        (st, v["fields"][0]["field"].as_str()),
        (400, Some("Idempotency-Key"))
    );
    let (st, v) = post(&format!("/api/v1/cases/{NO_CASE}/submit"), b"{}", &[]);
    assert_eq!((st, v["code"].as_str()), (404, Some("not-found")), "{v}");
    // Over the 1 MiB limit: refused from the announced length, before the body is read (a
    // client that goes on writing may see its socket closed, so the test sends headers only).
    let (status, body) = announce(&s.url, &t, "/api/v1/cases", 2 << 20);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("too-large"), "{body}");
    // A path parameter that is not UTF-8: 400 in the error shape, field named.
    let (st, v) = raw(
        "GET",
        &format!("{}/api/v1/cases/%FF", s.url),
        Some(&t),
        &[],
        None,
    );
    assert_eq!((st, v["code"].as_str()), (400, Some("invalid")), "{v}");
    assert_eq!(v["fields"][0]["field"], "path");
    // The wrong method on a real route.
    let (st, _) = raw(
        "DELETE",
        &format!("{}/api/v1/staff", s.url),
        Some(&t),
        &[],
        None,
    );
    assert_eq!(st, 405);
    // Nothing was written by any of it.
    let (st, v) = raw(
        "POST",
        &format!("{}/api/v1/cases/query", s.url),
        Some(&t),
        &[],
        Some(b"{}"),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["cases"].as_array().map(Vec::len), Some(0), "{v}");
}

#[test]
fn roles_four_eyes_and_decisions_over_http() {
    let s = branch_server();
    let remote = client(&s);
    let tel01 = remote.authenticate("tel01", PW, "").unwrap();
    let sup02 = remote.authenticate("sup02", PW, "").unwrap();
    let sup01 = Credentials {
        staff_id: "sup01".into(),
        password: PW.into(),
    };
    // A teller may not manage staff: 403.
    let e = remote.list_staff(&tel01).unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let t = tel01.remote_token().unwrap();
    let me = [("x-unlockdesk-terminal-name", "http-test")];
    let (st, _) = raw(
        "GET",
        &format!("{}/api/v1/staff", s.url),
        Some(t),
        &me,
        None,
    );
    assert_eq!(st, 403);
    // The same token from another terminal (no name: `local:loopback`) is not a session there.
    let (st, _) = raw(
        "GET",
        &format!("{}/api/v1/staff", s.url),
        Some(t),
        &[],
        None,
    );
    assert_eq!(st, 401);
    // Authorize: the maker (sup02 did the teller's steps) is refused, on every authorizing
    // route, whoever sits at the terminal.
    let c = to_submitted(&remote, &sup02);
    let own = Credentials {
        staff_id: "sup02".into(),
        password: PW.into(),
    };
    let e = remote
        .authorize(&sup02, c, &own, Decision::Approve, None, "", None)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::FourEyes, "{e:?}");
    let e = remote
        .authorize(&tel01, c, &own, Decision::Approve, None, "", None)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::FourEyes, "{e:?}");
    // A wrong supervisor password is refused (403, not 401: the session is fine).
    let wrong = Credentials {
        staff_id: "sup01".into(),
        password: "Wrong#2026x".into(),
    };
    let e = remote
        .authorize(&sup02, c, &wrong, Decision::Approve, None, "", None)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::AuthFailed);
    let v = remote
        .authorize(&sup02, c, &sup01, Decision::Approve, None, "", None)
        .unwrap();
    assert_eq!(v.case.state, CaseState::Approved);
    // Decided once: a second decision is 409.
    let e = remote
        .authorize(&tel01, c, &sup01, Decision::Reject, None, "x", None)
        .unwrap_err();
    assert!(
        matches!(e.code, ErrorCode::Conflict | ErrorCode::IllegalTransition),
        "{e:?}"
    );
    // Confirm unlock: the maker's credentials are refused too.
    remote
        .log_contact(
            &sup02,
            c,
            &ContactInput {
                channel: ContactChannel::Phone,
                ticket: "OP-1".into(),
                result: "unlocked".into(),
            },
            None,
        )
        .unwrap();
    let unlock = UnlockInput {
        operator_reference: "OP-1".into(),
        notified_via: NotificationChannel::Sms,
    };
    let e = remote
        .confirm_unlock(&sup02, c, &own, &unlock, None)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::FourEyes, "{e:?}");
    let v = remote
        .confirm_unlock(&sup02, c, &sup01, &unlock, None)
        .unwrap();
    assert_eq!(v.case.state, CaseState::Unlocked);
    // Every event names the terminal it came from.
    let events = remote.audit_events(&sup02, c).unwrap();
    assert!(
        events.iter().all(|e| e.terminal == "local:http-test"),
        "{events:?}"
    );
    // An idempotent retry of a step returns the same case, one event.
    let c2 = walk_in(&remote, &tel01);
    let a = remote
        .cancel_case(&tel01, c2, "客户离开", Some("k-1"))
        .unwrap();
    let b = remote
        .cancel_case(&tel01, c2, "客户离开", Some("k-1"))
        .unwrap();
    assert_eq!(a.case.version, b.case.version);
    let cancels = remote
        .audit_events(&sup02, c2)
        .unwrap()
        .iter()
        .filter(|e| e.action == "cancel")
        .count();
    assert_eq!(cancels, 1);
    assert!(remote.verify_audit(&sup02).unwrap().ok);
}

#[test]
fn ended_sessions_are_401_sign_out_disable_and_reset() {
    let s = branch_server();
    let url = &s.url;
    let t = token(url, "tel02");
    let me = |t: &str| {
        raw(
            "GET",
            &format!("{url}/api/v1/sessions/current"),
            Some(t),
            &[],
            None,
        )
        .0
    };
    assert_eq!(me(&t), 200);
    // Sign-out ends it.
    let (st, _) = raw(
        "DELETE",
        &format!("{url}/api/v1/sessions/current"),
        Some(&t),
        &[],
        None,
    );
    assert_eq!(st, 204);
    assert_eq!(me(&t), 401);
    // Disabling the account ends its sessions on every server (they live in the store).
    let t = token(url, "tel02");
    let admin = token(url, "admin");
    let (st, v) = raw(
        "POST",
        &format!("{url}/api/v1/staff/tel02/disabled"),
        Some(&admin),
        &[],
        Some(br#"{"disabled": true}"#),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(me(&t), 401);
    let (st, v) = sign_in(url, "tel02", PW);
    assert_eq!((st, v["code"].as_str()), (401, Some("account-disabled")));
    // A token from one terminal is refused at another.
    let t = token(url, "tel01");
    let (st, _) = raw(
        "GET",
        &format!("{url}/api/v1/sessions/current"),
        Some(&t),
        &[("x-unlockdesk-terminal-name", "another-desk")],
        None,
    );
    assert_eq!(st, 401);
}

#[test]
fn an_account_that_must_change_its_password_may_only_change_it() {
    let s = branch_server();
    let url = &s.url;
    let admin = token(url, "admin");
    let (st, v) = raw(
        "POST",
        &format!("{url}/api/v1/staff"),
        Some(&admin),
        &[],
        Some(br#"{"id":"tel09","name":"x","role":"teller","password":"Initial#2026"}"#),
    );
    assert_eq!(st, 201, "{v}");
    let (st, v) = sign_in(url, "tel09", "Initial#2026");
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["staff"]["must_change_password"], true);
    let t = v["token"].as_str().unwrap().to_string();
    let (st, v) = raw(
        "POST",
        &format!("{url}/api/v1/cases/query"),
        Some(&t),
        &[],
        Some(b"{}"),
    );
    assert_eq!(
        (st, v["code"].as_str()),
        (403, Some("password-change-required"))
    );
    let (st, _) = raw(
        "GET",
        &format!("{url}/api/v1/sessions/current"),
        Some(&t),
        &[],
        None,
    );
    assert_eq!(st, 200);
    let (st, v) = raw(
        "POST",
        &format!("{url}/api/v1/sessions/current/password"),
        Some(&t),
        &[],
        Some(br#"{"old_password":"Initial#2026","new_password":"Changed#2026x"}"#),
    );
    assert_eq!(st, 200, "{v}");
    let (st, v) = raw(
        "POST",
        &format!("{url}/api/v1/cases/query"),
        Some(&t),
        &[],
        Some(b"{}"),
    );
    assert_eq!(st, 200, "{v}");
}

#[test]
fn a_flood_of_failed_sign_ins_gets_429_and_successful_ones_never_do() {
    let s = branch_server();
    for _ in 0..25 {
        let (st, v) = sign_in(&s.url, "tel01", PW);
        assert_eq!(st, 201, "{v}");
    }
    let mut statuses = Vec::new();
    for i in 0..22 {
        // Unknown ids: nobody's account is locked by the flood.
        statuses.push(sign_in(&s.url, &format!("nobody{i}"), "x").0);
    }
    assert!(statuses[..20].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(&statuses[20..], &[429, 429]);
    let (st, v) = sign_in(&s.url, "tel01", PW);
    assert_eq!((st, v["code"].as_str()), (429, Some("too-many-requests")));
}

#[test]
fn wrong_supervisor_passwords_count_toward_the_flood_limit() {
    let s = branch_server();
    let t = token(&s.url, "tel01");
    let me = [("x-unlockdesk-terminal-name", "flood")];
    let t = {
        let (st, v) = raw(
            "POST",
            &format!("{}/api/v1/sessions", s.url),
            None,
            &me,
            Some(
                json!({"staff_id": "tel01", "password": PW})
                    .to_string()
                    .as_bytes(),
            ),
        );
        assert_eq!(st, 201, "{v} (first token {t})");
        v["token"].as_str().unwrap().to_string()
    };
    let mut statuses = Vec::new();
    for i in 0..21 {
        // A different (unknown) supervisor each time: no account is locked by the flood.
        let body = json!({
            "supervisor": {"staff_id": format!("nobody{i}"), "password": "x"},
            "decision": "approve"
        });
        let (st, _) = raw(
            "POST",
            &format!("{}/api/v1/cases/{NO_CASE}/authorize", s.url),
            Some(&t),
            &me,
            Some(body.to_string().as_bytes()),
        );
        statuses.push(st);
    }
    assert!(statuses[..20].iter().all(|s| *s == 403), "{statuses:?}");
    assert_eq!(statuses[20], 429, "{statuses:?}");
}

#[test]
fn other_major_versions_and_browsers_are_refused() {
    let s = branch_server();
    let (st, v) = raw(
        "GET",
        &format!("{}/api/v1/health", s.url),
        None,
        &[("x-unlockdesk-version", "9.0.0")],
        None,
    );
    assert_eq!((st, v["code"].as_str()), (400, Some("version-mismatch")));
    let (st, v) = raw(
        "GET",
        &format!("{}/api/v1/health", s.url),
        None,
        &[("origin", "http://evil.example")],
        None,
    );
    assert_eq!((st, v["code"].as_str()), (403, Some("forbidden")));
    // The client refuses a server of another major version with one sentence.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming().take(1) {
            let mut c = conn.unwrap();
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let body = r#"{"status":"ok","store":"ok","version":"9.0.0"}"#;
            let _ = write!(
                c,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 x-unlockdesk-version: 9.0.0\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let r = Remote::new(Connection {
        url: format!("http://127.0.0.1:{port}"),
        terminal_name: "t".into(),
        ..Default::default()
    })
    .unwrap();
    let e = r.health().unwrap_err();
    assert_eq!(e.code, ErrorCode::VersionMismatch);
    assert!(e.message.contains("same major version"), "{}", e.message);
}

#[test]
fn plain_http_is_for_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    let o = Command::new(BIN)
        .args(["--db", db.to_str().unwrap(), "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("only over TLS"));
    assert!(o.stdout.is_empty(), "never ready");
}

/// This host's first non-loopback IPv4 address, if it has one (from the routing table:
/// connecting a UDP socket sends nothing).
fn host_ip() -> Option<std::net::IpAddr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn tls_with_a_pinned_fingerprint_and_enrolment_from_another_address() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    {
        let svc = Service::new(
            unlockdesk_store::SqliteStore::open(&db).unwrap(),
            Arc::new(SystemClock),
            Arc::new(OsEntropy),
        );
        setup(&svc);
    }
    let db = db.to_str().unwrap().to_string();
    let s = start(
        &db,
        &["--listen", "0.0.0.0:0", "--tls-self-signed"],
        dir.path(),
    );
    let fp = s.fingerprint.clone().expect("the fingerprint is printed");
    assert!(fp.starts_with("SHA256:") && fp.len() == 7 + 95, "{fp}");
    assert!(s.url.starts_with("https://"), "{}", s.url);
    let port = s.url.rsplit(':').next().unwrap().to_string();
    let local = format!("https://127.0.0.1:{port}");
    let conn = |url: &str, pin: Option<&str>, terminal: Option<(String, String)>| Connection {
        url: url.to_string(),
        fingerprint: pin.map(str::to_string),
        terminal,
        terminal_name: "tls-test".into(),
        connect_timeout: Duration::from_secs(5),
    };
    // Before an enrolment code is sent: the certificate's fingerprint, from one health
    // request, is the one the server printed.
    assert_eq!(
        Remote::peek_fingerprint(conn(&local, None, None))
            .unwrap()
            .as_deref(),
        Some(fp.as_str())
    );
    // Pinned: works. Another pin: stops with a warning. No pin: refused before connecting.
    let ok = Remote::new(conn(&local, Some(&fp), None)).unwrap();
    assert_eq!(ok.health().unwrap()["status"], "ok");
    let wrong = "SHA256:".to_string() + &["00"; 32].join(":");
    let e = Remote::new(conn(&local, Some(&wrong), None))
        .unwrap()
        .health()
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::CertificateMismatch);
    assert!(e.message.starts_with("STOP"), "{}", e.message);
    assert!(Remote::new(conn(&local, None, None)).is_err());
    // The certificate is kept: a restart shows the same fingerprint.
    drop(s);
    let again = format!("0.0.0.0:{port}");
    let s = start(&db, &["--listen", &again, "--tls-self-signed"], dir.path());
    assert_eq!(s.fingerprint.as_deref(), Some(fp.as_str()));

    let Some(ip) = host_ip() else {
        eprintln!("no non-loopback address on this host: enrolment from another address not run");
        return;
    };
    let remote_url = format!("https://{ip}:{port}");
    // From another address, not enrolled: refused at sign-in.
    let stranger = Remote::new(conn(&remote_url, Some(&fp), None)).unwrap();
    let e = stranger.authenticate("tel01", PW, "").unwrap_err();
    assert_eq!(e.code, ErrorCode::TerminalNotEnrolled, "{e:?}");
    // An admin on the server's host issues a code; the terminal enrols and pins.
    let admin_client = Remote::new(conn(&local, Some(&fp), None)).unwrap();
    let admin = admin_client.authenticate("admin", PW, "").unwrap();
    let (code, _) = admin_client.issue_enrolment_code(&admin).unwrap();
    let e = Remote::enrol(conn(&remote_url, None, None), "WRONGCODE234", "counter 3").unwrap_err();
    assert_eq!(e.fields[0].field, "code");
    let en = Remote::enrol(conn(&remote_url, None, None), &code, "counter 3").unwrap();
    assert_eq!(en.fingerprint.as_deref(), Some(fp.as_str()));
    assert!(
        Remote::enrol(conn(&remote_url, None, None), &code, "again").is_err(),
        "a code works once"
    );
    let terminal = Some((en.terminal_id.clone(), en.secret.clone()));
    let desk = Remote::new(conn(&remote_url, Some(&fp), terminal)).unwrap();
    let tel01 = desk.authenticate("tel01", PW, "").unwrap();
    let c = walk_in(&desk, &tel01);
    let v = desk.case_view(&tel01, c).unwrap();
    assert_eq!(
        v.history[0].terminal, en.terminal_id,
        "the event names the terminal"
    );
    // Revoked: its sessions end at once.
    let list = admin_client.list_terminals(&admin).unwrap();
    assert_eq!(list.len(), 1);
    admin_client
        .revoke_terminal(&admin, &en.terminal_id)
        .unwrap();
    let e = desk.case_view(&tel01, c).unwrap_err();
    assert_eq!(e.code, ErrorCode::TerminalNotEnrolled, "{e:?}");
}

/// Also: the server re-executed itself (same process id) with glibc's arenas bounded, and
/// SIGTERM to that id still drains it.
#[test]
fn sigterm_drains_and_exits_0() {
    let mut s = branch_server();
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let env = std::fs::read(format!("/proc/{}/environ", s.child.id())).unwrap();
        assert!(
            env.split(|b| *b == 0).any(|v| v == b"MALLOC_ARENA_MAX=2"),
            "the server did not bound its malloc arenas"
        );
    }
    let t = token(&s.url, "tel01");
    let (st, _) = raw(
        "GET",
        &format!("{}/api/v1/today", s.url),
        Some(&t),
        &[],
        None,
    );
    assert_eq!(st, 200);
    let status = exit_after_sigterm(&mut s.child);
    assert_eq!(status.code(), Some(0));
}

/// Send SIGTERM to the server and wait (at most 20 s) for it to exit.
fn exit_after_sigterm(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    for _ in 0..200 {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("still running 20 s after SIGTERM");
}

/// The cluster of `scripts/with-postgres.sh`, or `None` (said on stderr) without it.
fn pg_cluster() -> Option<String> {
    match std::env::var("UNLOCKDESK_DATABASE_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u.trim().to_string()),
        _ => {
            eprintln!("UNLOCKDESK_DATABASE_URL unset: run through scripts/with-postgres.sh");
            None
        }
    }
}

/// A new database on the cluster: (name, URL).
fn fresh_pg(cluster: &str, tag: &str) -> (String, String) {
    let name = format!("ud_srv_{tag}_{}", std::process::id());
    let cfg: postgres::Config = cluster.parse().unwrap();
    let mut admin = cfg.connect(postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    // postgresql://user:pw@host:port/db?query → the same with our database.
    let (before_query, query) = match cluster.find('?') {
        Some(i) => cluster.split_at(i),
        None => (cluster, ""),
    };
    let slash = before_query.rfind('/').expect("a database in the URL");
    (
        name.clone(),
        format!("{}/{name}{query}", &before_query[..slash]),
    )
}

#[test]
fn two_servers_on_one_database_move_a_case_between_them() {
    let Some(cluster) = pg_cluster() else { return };
    let (name, url) = fresh_pg(&cluster, "move");
    {
        let svc = Service::new(
            unlockdesk_store_pg::PgStore::open(&url).unwrap(),
            Arc::new(SystemClock),
            Arc::new(OsEntropy),
        );
        setup(&svc);
    }
    let dir = tempfile::tempdir().unwrap();
    let a = start(&url, &["--listen", "127.0.0.1:0"], dir.path());
    let b = start(&url, &["--listen", "127.0.0.1:0"], dir.path());
    let (ca, cb) = (client(&a), client(&b));
    // One session, opened on A, is honoured by B: sessions live in the store.
    let tel01 = ca.authenticate("tel01", PW, "").unwrap();
    let sup01 = Credentials {
        staff_id: "sup01".into(),
        password: PW.into(),
    };
    let c = walk_in(&ca, &tel01);
    cb.verify_identity(&tel01, c, &unlockdesk_conformance::id_card(), Some("s-1"))
        .unwrap();
    ca.record_form(&tel01, c, &unlockdesk_conformance::form(), None)
        .unwrap();
    let doc = cb
        .print_document(
            &tel01,
            c,
            unlockdesk_core::print::DocumentKind::Application,
            unlockdesk_core::print::CopyKind::Bank,
        )
        .unwrap();
    ca.record_delivery(
        &tel01,
        c,
        &doc.id,
        &PrintDelivery {
            channel: PrintChannel::File,
            printer: None,
            job_id: None,
            outcome: PrintOutcome::Completed,
            message: String::new(),
        },
    )
    .unwrap();
    cb.confirm_signed(&tel01, c, None).unwrap();
    ca.submit(&tel01, c, None).unwrap();
    // The same key sent to the other server applies nothing twice.
    let once = ca.verify_identity(&tel01, c, &unlockdesk_conformance::id_card(), Some("s-1"));
    assert!(once.is_ok(), "{once:?}");
    let v = cb
        .authorize(&tel01, c, &sup01, Decision::Approve, None, "", None)
        .unwrap();
    assert_eq!(v.case.state, CaseState::Approved);
    let seen_on_a = ca.case_view(&tel01, c).unwrap();
    assert_eq!(seen_on_a.case.state, CaseState::Approved);
    let identity_steps = seen_on_a
        .history
        .iter()
        .filter(|e| e.action == "verify-identity")
        .count();
    assert_eq!(identity_steps, 1);
    // Signed out on B: A refuses the token at once.
    cb.sign_out(&tel01).unwrap();
    assert_eq!(
        ca.case_view(&tel01, c).unwrap_err().code,
        ErrorCode::SessionExpired
    );
    // SIGTERM on PostgreSQL too: drains and exits 0 (its connections close outside the
    // runtime).
    let mut a = a;
    let status = exit_after_sigterm(&mut a.child);
    assert_eq!(status.code(), Some(0), "SIGTERM with a PostgreSQL store");
    drop((ca, cb, a, b));
    let cfg: postgres::Config = cluster.parse().unwrap();
    let mut admin = cfg.connect(postgres::NoTls).unwrap();
    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}

#[test]
fn a_backup_streams_to_the_client_as_an_embedded_store_file() {
    let s = branch_server();
    let remote = client(&s);
    let admin = remote.authenticate("admin", PW, "").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("branch-backup.db");
    remote.backup(&admin, &dest).unwrap();
    let bytes = std::fs::read(&dest).unwrap();
    assert!(
        bytes.starts_with(b"SQLite format 3\0"),
        "an embedded-store file"
    );
    assert!(!dir.path().join("branch-backup.part").exists());
    // A teller may not take one.
    let tel01 = remote.authenticate("tel01", PW, "").unwrap();
    let e = remote.backup(&tel01, &dir.path().join("x.db")).unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert!(!dir.path().join("x.db").exists());
}

/// Follow the queue's events on a thread: each event (and `None` once connected) on the
/// channel, until `stop` is set and the next event or keep-alive arrives.
fn follow(
    remote: Arc<Remote>,
    actor: Actor,
    after: Option<i64>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> (
    std::sync::mpsc::Receiver<Option<unlockdesk_core::authorizations::AuthorizationEvent>>,
    std::thread::JoinHandle<CoreResult<Option<i64>>>,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        remote.follow_events(&actor, after, |f| {
            let sent = match f {
                unlockdesk_client::Followed::Connected => tx.send(None),
                unlockdesk_client::Followed::Event(e) => tx.send(Some(e)),
                unlockdesk_client::Followed::Alive => Ok(()),
            };
            sent.is_ok() && !stop.load(std::sync::atomic::Ordering::SeqCst)
        })
    });
    (rx, h)
}

/// The next event within 10 s, as (event, case, kind).
fn next_event(
    rx: &std::sync::mpsc::Receiver<Option<unlockdesk_core::authorizations::AuthorizationEvent>>,
) -> unlockdesk_core::authorizations::AuthorizationEvent {
    loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Some(e)) => return e,
            Ok(None) => continue,
            Err(e) => panic!("no event within 10 s: {e}"),
        }
    }
}

#[test]
fn queue_events_stream_live_in_order_and_resume_after_a_drop() {
    use unlockdesk_core::authorizations::AuthorizationKind as K;
    let s = branch_server();
    let remote = Arc::new(client(&s));
    let sup01 = remote.authenticate("sup01", PW, "").unwrap();
    let tel01 = remote.authenticate("tel01", PW, "").unwrap();
    let creds = Credentials {
        staff_id: "sup01".into(),
        password: PW.into(),
    };
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let head = remote
        .authorization_events(&sup01, None, 1)
        .unwrap()
        .last_seq;
    let (rx, h) = follow(remote.clone(), sup01.clone(), Some(head), stop.clone());
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), None);

    // The teller submits: the supervisor's stream says so; the queue has it.
    let c = to_submitted(remote.as_ref(), &tel01);
    let e = next_event(&rx);
    assert_eq!(
        (e.event.as_str(), e.case_id, e.kind),
        ("requested", c, Some(K::Authorize))
    );
    let q = remote.authorization_queue(&sup01).unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].case_id, c);
    // Opened, then decided at the supervisor's desk: in that order.
    remote.open_authorization(&sup01, c).unwrap();
    remote
        .authorize(
            &sup01,
            c,
            &creds,
            Decision::ReturnForInfo,
            Some(ReasonCode::MaterialsMissing),
            "",
            None,
        )
        .unwrap();
    let opened = next_event(&rx);
    let decided = next_event(&rx);
    assert_eq!(
        (opened.event.as_str(), decided.event.as_str()),
        ("opened", "decided")
    );
    assert_eq!(decided.action, "return-for-info");
    assert!(e.seq < opened.seq && opened.seq < decided.seq);

    // The stream is dropped; a step lands meanwhile; following again from the last seq seen
    // delivers it first, exactly once.
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let c2 = to_submitted(remote.as_ref(), &tel01);
    let last = h.join().unwrap().unwrap();
    assert!(last.unwrap() >= decided.seq);
    stop.store(false, std::sync::atomic::Ordering::SeqCst);
    let (rx, _h) = follow(
        remote.clone(),
        sup01.clone(),
        Some(decided.seq),
        stop.clone(),
    );
    let missed = next_event(&rx);
    assert_eq!((missed.event.as_str(), missed.case_id), ("requested", c2));
    assert!(
        rx.recv_timeout(Duration::from_millis(500)).is_err(),
        "nothing twice"
    );

    // Bad positions are 400 naming the field; no token is 401.
    let t = token(&s.url, "sup01");
    let url = format!("{}/api/v1/events", s.url);
    let (st, v) = raw("GET", &url, Some(&t), &[("last-event-id", "x")], None);
    assert_eq!(
        (st, v["fields"][0]["field"].as_str()),
        (400, Some("last-event-id"))
    );
    let (st, v) = raw("GET", &format!("{url}?after=-1"), Some(&t), &[], None);
    assert_eq!((st, v["fields"][0]["field"].as_str()), (400, Some("after")));
    let (st, _) = raw("GET", &url, None, &[], None);
    assert_eq!(st, 401);
    let (st, v) = raw(
        "GET",
        &format!("{}/api/v1/authorizations/events?limit=0", s.url),
        Some(&t),
        &[],
        None,
    );
    assert_eq!((st, v["fields"][0]["field"].as_str()), (400, Some("limit")));
}

/// An open event stream never holds the drain: SIGTERM still exits 0 promptly.
#[test]
fn sigterm_ends_open_event_streams() {
    let mut s = branch_server();
    let remote = Arc::new(client(&s));
    let sup01 = remote.authenticate("sup01", PW, "").unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (rx, h) = follow(remote.clone(), sup01, None, stop);
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), None);
    let t0 = std::time::Instant::now();
    let status = exit_after_sigterm(&mut s.child);
    assert_eq!(status.code(), Some(0));
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    assert!(h.join().unwrap().is_ok(), "the stream ended, not failed");
}

/// A step committed through one server reaches the streams of another (PostgreSQL
/// LISTEN/NOTIFY), in order.
#[test]
fn two_servers_share_the_queue_events_through_postgres() {
    use unlockdesk_core::authorizations::AuthorizationKind as K;
    let Some(cluster) = pg_cluster() else { return };
    let (name, url) = fresh_pg(&cluster, "events");
    {
        let svc = Service::new(
            unlockdesk_store_pg::PgStore::open(&url).unwrap(),
            Arc::new(SystemClock),
            Arc::new(OsEntropy),
        );
        setup(&svc);
    }
    let dir = tempfile::tempdir().unwrap();
    let a = start(&url, &["--listen", "127.0.0.1:0"], dir.path());
    let b = start(&url, &["--listen", "127.0.0.1:0"], dir.path());
    let (ca, cb) = (Arc::new(client(&a)), Arc::new(client(&b)));
    let sup01 = cb.authenticate("sup01", PW, "").unwrap();
    let tel01 = ca.authenticate("tel01", PW, "").unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (rx, _h) = follow(cb.clone(), sup01.clone(), None, stop.clone());
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), None);
    let c1 = to_submitted(ca.as_ref(), &tel01);
    let c2 = to_submitted(ca.as_ref(), &tel01);
    let e1 = next_event(&rx);
    let e2 = next_event(&rx);
    assert_eq!((e1.case_id, e1.kind), (c1, Some(K::Authorize)));
    assert_eq!((e2.case_id, e2.event.as_str()), (c2, "requested"));
    assert!(e1.seq < e2.seq);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    drop((ca, cb, a, b));
    let cfg: postgres::Config = cluster.parse().unwrap();
    let mut admin = cfg.connect(postgres::NoTls).unwrap();
    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}

/// The signed form's scan over HTTP: the raw body typed by content, a body over the limit 413
/// before it is read, the same key attaching once, and the bytes served back unchanged.
#[test]
fn a_signed_scan_is_uploaded_typed_and_served_back() {
    let s = branch_server();
    let remote = client(&s);
    let tel01 = remote.authenticate("tel01", PW, "").unwrap();
    let c = unlockdesk_conformance::identified_walk_in(&remote, &tel01);
    remote
        .record_form(&tel01, c, &unlockdesk_conformance::form(), None)
        .unwrap();
    unlockdesk_conformance::print_delivered(
        &remote,
        &tel01,
        c,
        unlockdesk_core::print::DocumentKind::Application,
    );
    let png = unlockdesk_conformance::SCAN_PNG;
    let e = remote
        .attach_signed_scan(&tel01, c, "scan.png", b"plain text", None)
        .unwrap_err();
    assert_eq!(
        (e.code, e.fields[0].rule.as_str()),
        (ErrorCode::Invalid, "type")
    );
    let v = remote
        .attach_signed_scan(&tel01, c, "scan.png", png, Some("k-scan"))
        .unwrap();
    let again = remote
        .attach_signed_scan(&tel01, c, "scan.png", png, Some("k-scan"))
        .unwrap();
    assert_eq!(again.case.signed_scans.len(), 1);
    let scan = &v.case.signed_scans[0];
    assert_eq!(
        remote.document_bytes(&tel01, c, &scan.document_id).unwrap(),
        png
    );
    // Announced over the limit: 413 before the body is read.
    let t = token(&s.url, "tel01");
    let (st, _) = announce(
        &s.url,
        &t,
        &format!("/api/v1/cases/{c}/signed-scan?file_name=x.png"),
        unlockdesk_core::service::MAX_SCAN_BYTES + 4096,
    );
    assert_eq!(st, 413);
    let (st, v) = raw(
        "POST",
        &format!("{}/api/v1/cases/{c}/signed-scan", s.url),
        Some(&t),
        &[],
        Some(png),
    );
    assert_eq!(
        (st, v["fields"][0]["field"].as_str()),
        (400, Some("file_name"))
    );
}

#[test]
fn operator_routes_check_bodies_and_roles_and_keep_the_manual_path_without_a_connector() {
    let s = branch_server();
    let remote = client(&s);
    let tel01 = remote.authenticate("tel01", PW, "").unwrap();
    let t = token(&s.url, "tel01");
    let url = |p: String| format!("{}{p}", s.url);
    // Bodies: the field named, nothing asked.
    let (st, v) = raw(
        "POST",
        &url(format!("/api/v1/cases/{NO_CASE}/wallet-status")),
        Some(&t),
        &[],
        Some(br#"{"wallet_id": 5}"#),
    );
    assert_eq!(
        (st, v["fields"][0]["field"].as_str()),
        (400, Some("wallet_id")),
        "{v}"
    );
    let (st, v) = raw(
        "POST",
        &url(format!("/api/v1/cases/{NO_CASE}/wallet-status")),
        Some(&t),
        &[],
        Some(br#"{"wallet": "W1"}"#),
    );
    assert_eq!(st, 400, "{v}");
    let (st, v) = raw(
        "POST",
        &url(format!("/api/v1/cases/{NO_CASE}/wallet-status")),
        Some(&t),
        &[],
        Some(b"{}"),
    );
    assert_eq!((st, v["code"].as_str()), (404, Some("not-found")), "{v}");
    let (st, v) = raw(
        "GET",
        &url("/api/v1/notifications?case=nope".into()),
        Some(&t),
        &[],
        None,
    );
    assert_eq!(
        (st, v["fields"][0]["field"].as_str()),
        (400, Some("case")),
        "{v}"
    );
    let (st, v) = raw(
        "GET",
        &url("/api/v1/notifications".into()),
        Some(&t),
        &[],
        None,
    );
    assert_eq!((st, v.as_array().map(Vec::len)), (200, Some(0)), "{v}");
    let (st, v) = raw(
        "POST",
        &url("/api/v1/notifications/deliver".into()),
        Some(&t),
        &[],
        Some(b"{}"),
    );
    assert_eq!((st, v["queued"].as_u64()), (200, Some(0)), "{v}");

    // An approved case on a branch without a connector: the manual path, said so.
    let sup02 = remote.authenticate("sup02", PW, "").unwrap();
    let c = to_submitted(&remote, &sup02);
    let sup01 = Credentials {
        staff_id: "sup01".into(),
        password: PW.into(),
    };
    remote
        .authorize(&tel01, c, &sup01, Decision::Approve, None, "", None)
        .unwrap();
    let e = remote.request_unlock(&tel01, c, None).unwrap_err();
    assert_eq!(e.code, ErrorCode::Invalid, "{e:?}");
    assert_eq!(e.fields[0].field, "wallet_operator");
    assert_eq!(e.fields[0].rule, "no-connector");
    let e = remote.wallet_status(&tel01, c, None).unwrap_err();
    assert_eq!(e.fields[0].rule, "no-connector", "{e:?}");
    let v = remote.case_view(&tel01, c).unwrap();
    assert_eq!(v.operator_connector, Some(false));
    assert!(!v
        .allowed
        .contains(&unlockdesk_core::workflow::EventKind::RequestUnlock));
    // An administrator never works cases.
    let admin = remote.authenticate("admin", PW, "").unwrap();
    let e = remote.request_unlock(&admin, c, None).unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden, "{e:?}");
    assert!(remote.notifications(&admin, Some(c)).unwrap().is_empty());
}
