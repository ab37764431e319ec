//! The branch server's sessions, enrolled terminals and one-time enrolment codes on every
//! store: the ports (`SessionRead` / `SessionWrite`) through `Store::transact` and `read`, and
//! the use cases of `unlockdesk_core::service::branch_server` on top of them.

use chrono::{DateTime, Duration, Utc};
use unlockdesk_core::ports::{Clock, EnrolmentCode, ServerSession, Store, TerminalRecord};
use unlockdesk_core::*;

use crate::*;

/// The suite's clock time plus `micros` microseconds: the stores keep microseconds, so a
/// value with them must come back exactly.
fn t(micros: i64) -> DateTime<Utc> {
    clock().now() + Duration::microseconds(micros)
}

fn staff(id: &str) -> StaffId {
    StaffId::parse(id).unwrap()
}

fn session(token: &str, who: &str, terminal: &str, at: DateTime<Utc>) -> ServerSession {
    ServerSession {
        token_hash: sha256_hex(token.as_bytes()),
        staff_id: staff(who),
        terminal: terminal.into(),
        created_at: at,
        last_seen: at,
        revoked_at: None,
    }
}

fn terminal(id: &str, enrolled_at: DateTime<Utc>) -> TerminalRecord {
    TerminalRecord {
        id: id.into(),
        name: format!("柜台 {id}"),
        secret_hash: sha256_hex(format!("secret of {id}").as_bytes()),
        enrolled_at,
        enrolled_by: staff("admin"),
        revoked_at: None,
    }
}

fn stored<S: Store>(store: &S, token: &str) -> Option<ServerSession> {
    store
        .read(|tx| tx.server_session(&sha256_hex(token.as_bytes())))
        .unwrap()
}

/// Sessions through the ports: stored and read back exactly (microseconds, an open and a
/// revoked one), `last_seen` and `revoked_at` updated, an update of a missing session is
/// `not-found`, a taken token hash is `conflict` and changes nothing. Revoking by terminal
/// and by staff ends only the open sessions, says how many, and leaves the time an already
/// ended session ended at; another connection sees all of it.
pub fn server_sessions_are_stored_updated_and_revoked_by_terminal_and_staff<F: Fixture>(fix: &F) {
    let store = fix.fresh();
    let early = t(-3_600_000_000);
    let mut ended = session("t4", "tel02", "term-a", t(1));
    ended.revoked_at = Some(t(2));
    let all = [
        session("t1", "tel01", "term-a", t(123_456)),
        session("t2", "tel01", "local:counter-1", t(7)),
        session("t3", "tel02", "term-a", early),
        ended.clone(),
    ];
    store
        .transact(|tx| all.iter().try_for_each(|s| tx.insert_server_session(s)))
        .unwrap();
    for s in &all {
        assert_eq!(
            store
                .read(|tx| tx.server_session(&s.token_hash))
                .unwrap()
                .as_ref(),
            Some(s)
        );
    }
    assert_eq!(stored(&store, "no such token"), None);

    let mut s1 = all[0].clone();
    s1.last_seen = t(60_000_001);
    store.transact(|tx| tx.update_server_session(&s1)).unwrap();
    assert_eq!(stored(&store, "t1"), Some(s1.clone()));
    let missing = session("t9", "tel01", "term-a", t(0));
    let e = store
        .transact(|tx| tx.update_server_session(&missing))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound, "{e:?}");
    assert_eq!(stored(&store, "t9"), None);

    let mut again = session("t1", "tel02", "term-b", t(99));
    again.revoked_at = Some(t(99));
    let e = store
        .transact(|tx| tx.insert_server_session(&again))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{e:?}");
    assert_eq!(
        stored(&store, "t1"),
        Some(s1.clone()),
        "the first session is untouched"
    );

    // term-a has t1 and t3 open, and t4 ended earlier.
    let at = t(120_000_000);
    let n = store
        .transact(|tx| tx.revoke_terminal_sessions("term-a", at))
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(stored(&store, "t1").unwrap().revoked_at, Some(at));
    assert_eq!(stored(&store, "t3").unwrap().revoked_at, Some(at));
    assert_eq!(stored(&store, "t4").unwrap().revoked_at, Some(t(2)));
    assert_eq!(
        stored(&store, "t2").unwrap().revoked_at,
        None,
        "another terminal's"
    );
    assert_eq!(
        store
            .transact(|tx| tx.revoke_terminal_sessions("term-a", t(1)))
            .unwrap(),
        0,
        "nothing open is left there"
    );
    assert_eq!(
        store
            .transact(|tx| tx.revoke_terminal_sessions("term-z", at))
            .unwrap(),
        0
    );

    // tel01 has only t2 open now (t1 ended with its terminal).
    let later = t(180_000_000);
    let n = store
        .transact(|tx| tx.revoke_staff_sessions(&staff("tel01"), later))
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(stored(&store, "t2").unwrap().revoked_at, Some(later));
    assert_eq!(stored(&store, "t1").unwrap().revoked_at, Some(at));
    assert_eq!(
        store
            .transact(|tx| tx.revoke_staff_sessions(&staff("tel01"), later))
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .transact(|tx| tx.revoke_staff_sessions(&staff("tel02"), later))
            .unwrap(),
        0
    );

    let other = fix.again();
    assert_eq!(stored(&other, "t2").unwrap().revoked_at, Some(later));
    assert_eq!(stored(&other, "t4"), Some(ended));
}

/// Enrolment codes and terminals through the ports: a code is stored and read back, then
/// marked used with the terminal it enrolled; terminals are listed by enrolment time (equal
/// times by id), revoked ones included; updates of missing rows are `not-found`, taken keys
/// `conflict`.
pub fn enrolment_codes_and_terminals_are_stored_listed_and_revoked<F: Fixture>(fix: &F) {
    let store = fix.fresh();
    let code = EnrolmentCode {
        code_hash: sha256_hex(b"ABCD2345EFGH"),
        issued_by: staff("admin"),
        issued_at: t(5),
        expires_at: t(5) + Duration::minutes(30),
        used_at: None,
        terminal_id: None,
    };
    store
        .transact(|tx| tx.insert_enrolment_code(&code))
        .unwrap();
    let read = |s: &F::S, hash: &str| s.read(|tx| tx.enrolment_code(hash)).unwrap();
    assert_eq!(read(&store, &code.code_hash), Some(code.clone()));
    assert_eq!(read(&store, &sha256_hex(b"unknown")), None);
    let mut used = code.clone();
    used.used_at = Some(t(60_000_000));
    used.terminal_id = Some("term-0a1b2c3d4e5f".into());
    store
        .transact(|tx| tx.update_enrolment_code(&used))
        .unwrap();
    assert_eq!(read(&fix.again(), &code.code_hash), Some(used.clone()));
    let e = store
        .transact(|tx| tx.insert_enrolment_code(&code))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{e:?}");
    assert_eq!(read(&store, &code.code_hash), Some(used), "still used");
    let mut missing = code.clone();
    missing.code_hash = sha256_hex(b"never issued");
    let e = store
        .transact(|tx| tx.update_enrolment_code(&missing))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound, "{e:?}");

    // Inserted out of order: the list is by enrolment time, then id.
    let c = terminal("term-cccccccccccc", t(3_000));
    let a = terminal("term-aaaaaaaaaaaa", t(2_000));
    let b = terminal("term-bbbbbbbbbbbb", t(1_000));
    let b2 = terminal("term-000000000000", t(2_000));
    store
        .transact(|tx| {
            [&c, &a, &b, &b2]
                .iter()
                .try_for_each(|x| tx.insert_terminal(x))
        })
        .unwrap();
    let list = |s: &F::S| s.read(|tx| tx.list_terminals()).unwrap();
    assert_eq!(
        list(&store),
        vec![b.clone(), b2.clone(), a.clone(), c.clone()]
    );
    assert_eq!(
        store.read(|tx| tx.terminal(&a.id)).unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.read(|tx| tx.terminal("term-ffffffffffff")).unwrap(),
        None
    );

    let mut revoked = a.clone();
    revoked.revoked_at = Some(t(4_000));
    store.transact(|tx| tx.update_terminal(&revoked)).unwrap();
    assert_eq!(list(&fix.again()), vec![b, b2, revoked.clone(), c]);
    let mut taken = terminal(&a.id, t(9_000));
    taken.name = "another".into();
    let e = store.transact(|tx| tx.insert_terminal(&taken)).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{e:?}");
    assert_eq!(store.read(|tx| tx.terminal(&a.id)).unwrap(), Some(revoked));
    let e = store
        .transact(|tx| tx.update_terminal(&terminal("term-ffffffffffff", t(0))))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound, "{e:?}");
    assert_eq!(store.read(|tx| tx.list_terminals()).unwrap().len(), 4);
}

/// An error inside `transact` keeps none of its writes: a session, a code and a terminal
/// written before a use case's refusal, and a new session written before a `conflict` on a
/// taken token (on PostgreSQL the failed insert also ends the transaction).
pub fn an_error_inside_transact_leaves_no_session_code_or_terminal<F: Fixture>(fix: &F) {
    let store = fix.fresh();
    let code = EnrolmentCode {
        code_hash: sha256_hex(b"ROLLBACK2345"),
        issued_by: staff("admin"),
        issued_at: t(0),
        expires_at: t(0) + Duration::minutes(30),
        used_at: None,
        terminal_id: None,
    };
    let e = store
        .transact(|tx| {
            tx.insert_server_session(&session("r1", "tel01", "term-a", t(0)))?;
            tx.insert_enrolment_code(&code)?;
            tx.insert_terminal(&terminal("term-rrrrrrrrrrrr", t(0)))?;
            Err::<(), _>(CoreError::forbidden("refused after the writes"))
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert_eq!(stored(&store, "r1"), None);
    assert_eq!(
        store.read(|tx| tx.enrolment_code(&code.code_hash)).unwrap(),
        None
    );
    assert!(store.read(|tx| tx.list_terminals()).unwrap().is_empty());

    store
        .transact(|tx| tx.insert_server_session(&session("r2", "tel01", "term-a", t(0))))
        .unwrap();
    let e = store
        .transact(|tx| {
            tx.insert_server_session(&session("r3", "tel02", "term-a", t(1)))?;
            tx.insert_server_session(&session("r2", "tel02", "term-b", t(1)))
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{e:?}");
    assert_eq!(
        stored(&store, "r3"),
        None,
        "the session before the conflict is gone too"
    );
    assert_eq!(stored(&store, "r2").unwrap().terminal, "term-a");
    // The store is usable after the failed transactions.
    let n = store
        .transact(|tx| tx.revoke_terminal_sessions("term-a", t(2)))
        .unwrap();
    assert_eq!(n, 1);
}

/// The branch server's use cases on the store: an admin's one-time code enrols a terminal
/// once (a used or expired code is `invalid`), the terminal is known by its id and secret
/// only; a session is stored by its token's SHA-256, bound to its terminal, kept alive by its
/// requests and ended `idle_lock_minutes` after the last one (the clock is fixed, so exactly);
/// sign-out, revoking the terminal and disabling the account end sessions, each recorded in the
/// audit trail.
pub fn branch_server_enrols_terminals_and_keeps_sessions_in_the_store<F: Fixture>(fix: &F) {
    let clk = clock();
    let svc = svc(fix, clk.clone());
    setup(&svc);
    let admin = svc.authenticate("admin", PW, "test").unwrap();
    let tel01 = svc.authenticate("tel01", PW, "t").unwrap();
    assert_eq!(
        svc.issue_enrolment_code(&tel01).unwrap_err().code,
        ErrorCode::Forbidden
    );

    // Enrolment: the code as typed (lower case, grouped), once.
    let (code, expires) = svc.issue_enrolment_code(&admin).unwrap();
    assert_eq!(expires, clk.now() + Duration::minutes(30));
    assert_eq!(code.len(), 12);
    let typed = format!("{}-{}", &code[..6], &code[6..]).to_lowercase();
    let enrolled = svc.enrol_terminal(&typed, "  柜台 3 ").unwrap();
    let term = enrolled.terminal.clone();
    assert!(
        term.id.starts_with("term-") && term.id.len() == 17,
        "{}",
        term.id
    );
    assert_eq!(term.name, "柜台 3");
    assert_eq!(term.enrolled_by.as_str(), "admin");
    assert_eq!(term.secret_hash, sha256_hex(enrolled.secret.as_bytes()));
    let e = svc.enrol_terminal(&code, "again").unwrap_err();
    assert_eq!(e.code, ErrorCode::Invalid, "a code works once: {e:?}");
    let stored_code = fix
        .again()
        .read(|tx| tx.enrolment_code(&sha256_hex(code.as_bytes())))
        .unwrap()
        .unwrap();
    assert_eq!(stored_code.terminal_id.as_deref(), Some(term.id.as_str()));
    assert_eq!(stored_code.used_at, Some(clk.now()));

    let (late, _) = svc.issue_enrolment_code(&admin).unwrap();
    clk.advance(Duration::minutes(30));
    assert_eq!(
        svc.enrol_terminal(&late, "late").unwrap_err().code,
        ErrorCode::Invalid
    );
    assert_eq!(svc.list_terminals(&admin).unwrap(), vec![term.clone()]);
    assert_eq!(
        svc.enrolled_terminal(&term.id, &enrolled.secret).unwrap(),
        term
    );
    for (id, secret) in [(term.id.as_str(), "wrong"), ("term-000000000000", "x")] {
        assert_eq!(
            svc.enrolled_terminal(id, secret).unwrap_err().code,
            ErrorCode::TerminalNotEnrolled
        );
    }

    // A session: only the token's hash is stored, and it is bound to its terminal.
    let si = svc.server_sign_in("tel01", PW, &term.id).unwrap();
    assert_eq!(si.token.len(), 64);
    assert_eq!(si.idle_minutes, 5);
    let row = stored(&fix.again(), &si.token).expect("the session is in the store");
    assert_eq!(
        (row.staff_id.as_str(), row.terminal.as_str()),
        ("tel01", term.id.as_str())
    );
    assert_eq!(row.created_at, clk.now());
    let actor = svc.server_actor(&si.token, &term.id).unwrap();
    assert_eq!(actor.staff_id().as_str(), "tel01");
    assert_eq!(
        svc.server_actor(&si.token, "local:counter-1")
            .unwrap_err()
            .code,
        ErrorCode::SessionExpired
    );
    assert_eq!(
        svc.server_actor("0".repeat(64).as_str(), &term.id)
            .unwrap_err()
            .code,
        ErrorCode::SessionExpired
    );
    assert_eq!(
        svc.server_sign_in("tel01", "wrong", &term.id)
            .unwrap_err()
            .code,
        ErrorCode::AuthFailed
    );

    // Idle expiry: every request within the idle minutes keeps it (the store's `last_seen`
    // moves on), the first one a full idle period after the last ends it for good.
    let idle = Duration::minutes(i64::from(si.idle_minutes));
    for _ in 0..3 {
        clk.advance(idle - Duration::seconds(1));
        svc.server_actor(&si.token, &term.id).unwrap();
        assert_eq!(
            stored(&fix.again(), &si.token).unwrap().last_seen,
            clk.now()
        );
    }
    clk.advance(idle);
    assert_eq!(
        svc.server_actor(&si.token, &term.id).unwrap_err().code,
        ErrorCode::SessionExpired
    );
    assert_eq!(
        stored(&fix.again(), &si.token).unwrap().revoked_at,
        Some(clk.now())
    );
    clk.advance(Duration::seconds(1));
    assert_eq!(
        svc.server_actor(&si.token, &term.id).unwrap_err().code,
        ErrorCode::SessionExpired,
        "an ended session stays ended"
    );

    // Sign-out ends the session; a second sign-out is already out.
    let local = svc.server_sign_in("tel01", PW, "local:counter-1").unwrap();
    svc.server_actor(&local.token, "local:counter-1").unwrap();
    svc.server_sign_out(&local.token).unwrap();
    svc.server_sign_out(&local.token).unwrap();
    assert_eq!(
        svc.server_actor(&local.token, "local:counter-1")
            .unwrap_err()
            .code,
        ErrorCode::SessionExpired
    );

    // Revoking the terminal ends its open sessions; disabling an account ends its sessions.
    let s1 = svc.server_sign_in("tel01", PW, &term.id).unwrap();
    let s2 = svc.server_sign_in("admin", PW, &term.id).unwrap();
    let s3 = svc.server_sign_in("tel01", PW, "local:counter-2").unwrap();
    let revoked = svc.revoke_terminal(&admin, &term.id).unwrap();
    assert_eq!(revoked.revoked_at, Some(clk.now()));
    for s in [&s1, &s2] {
        assert_eq!(
            svc.server_actor(&s.token, &term.id).unwrap_err().code,
            ErrorCode::SessionExpired
        );
    }
    assert_eq!(
        svc.enrolled_terminal(&term.id, &enrolled.secret)
            .unwrap_err()
            .code,
        ErrorCode::TerminalNotEnrolled
    );
    assert_eq!(svc.list_terminals(&admin).unwrap(), vec![revoked]);
    svc.server_actor(&s3.token, "local:counter-2").unwrap();
    svc.set_staff_disabled(&admin, "tel01", true).unwrap();
    assert_eq!(
        stored(&fix.again(), &s3.token).unwrap().revoked_at,
        Some(clk.now())
    );
    assert_eq!(
        svc.server_actor(&s3.token, "local:counter-2")
            .unwrap_err()
            .code,
        ErrorCode::SessionExpired
    );
    assert_eq!(
        svc.revoke_terminal(&admin, "term-000000000000")
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );

    let actions: Vec<(String, String)> = audit(fix)
        .into_iter()
        .filter(|(a, ..)| a.starts_with("terminal-") || a == "sign-out")
        .map(|(a, _, d, _)| (a, d))
        .collect();
    let names: Vec<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        names,
        [
            "terminal-code",
            "terminal-enrol",
            "terminal-code",
            "sign-out",
            "terminal-revoke"
        ]
    );
    assert!(
        actions[4].1.contains("\"sessions_ended\":2"),
        "{}",
        actions[4].1
    );
    assert!(fix.again().verify_audit().unwrap().ok);
}

/// `Store::session_check` reads what the three reads would (session, its account, the
/// branch's idle minutes) on every store, including a store that answers it in one statement.
pub fn session_check_reads_the_session_its_account_and_idle_minutes<F: Fixture>(fix: &F) {
    // Before set-up: no branch (idle 0), no accounts.
    let bare = fix.fresh();
    let orphan = session("t1", "tel01", "term-a", t(5));
    bare.transact(|tx| tx.insert_server_session(&orphan))
        .unwrap();
    let found = bare.session_check(&orphan.token_hash).unwrap();
    assert_eq!(found.session.as_ref(), Some(&orphan));
    assert_eq!(found.staff, None, "no account behind the session");
    assert_eq!(found.idle_lock_minutes, 0, "no branch yet");
    let none = bare.session_check(&sha256_hex(b"no such token")).unwrap();
    assert_eq!((none.session, none.staff), (None, None));

    let svc = svc(fix, clock());
    setup(&svc);
    let store = fix.again();
    let mut ended = session("t2", "tel01", "term-b", t(9));
    ended.revoked_at = Some(t(10));
    store
        .transact(|tx| {
            let mut b = tx.branch()?.expect("set up");
            b.idle_lock_minutes = 7;
            tx.save_branch(&b)?;
            tx.insert_server_session(&ended)
        })
        .unwrap();
    let account = store
        .read(|tx| tx.staff(&staff("tel01")))
        .unwrap()
        .expect("tel01");
    let found = store.session_check(&ended.token_hash).unwrap();
    assert_eq!(found.session.as_ref(), Some(&ended), "ended ones too");
    assert_eq!(found.staff.as_ref(), Some(&account));
    assert_eq!(found.idle_lock_minutes, 7);
    let none = store.session_check(&sha256_hex(b"no such token")).unwrap();
    assert_eq!((none.session, none.staff), (None, None));
    assert_eq!(none.idle_lock_minutes, 7);
}
