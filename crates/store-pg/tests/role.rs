//! The restricted application role (issue 13 item 2): migrations run as the URL's user, every
//! connection of the store then acts as `unlockdesk_app`, which may read and append the audit
//! trail but never change it; the role is cluster-wide and reused by a second database; a
//! schema owner who is not a superuser is told in one sentence what to grant.
//!
//! Run with `scripts/with-postgres.sh cargo test -p unlockdesk-store-pg --test role`.

use std::sync::atomic::{AtomicU32, Ordering};

use postgres::error::SqlState;
use postgres::{Client, Config, NoTls};
use unlockdesk_store_pg::migrate::APP_ROLE;
use unlockdesk_store_pg::PgStore;

static NEXT: AtomicU32 = AtomicU32::new(0);

fn base() -> Config {
    let url = std::env::var("UNLOCKDESK_DATABASE_URL").unwrap_or_default();
    assert!(
        !url.is_empty(),
        "UNLOCKDESK_DATABASE_URL is not set: run these tests through scripts/with-postgres.sh \
         (it starts a throwaway PostgreSQL and sets it)"
    );
    url.parse()
        .expect("UNLOCKDESK_DATABASE_URL is not a PostgreSQL URL")
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A new database (dropped on drop) and the superuser's configuration for it.
struct Db {
    name: String,
    config: Config,
}

impl Db {
    fn new(owner: Option<&str>) -> Db {
        let name = unique("ud_role");
        let owner = owner.map(|o| format!(" OWNER {o}")).unwrap_or_default();
        admin()
            .batch_execute(&format!("CREATE DATABASE {name}{owner}"))
            .expect("create a test database");
        let mut config = base();
        config.dbname(&name);
        Db { name, config }
    }
    fn superuser(&self) -> Client {
        self.config
            .connect(NoTls)
            .expect("connect as the superuser")
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = admin().batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

fn admin() -> Client {
    base().connect(NoTls).expect("connect to the test cluster")
}

fn sqlstate(e: &postgres::Error) -> String {
    e.code().map(|c| c.code().to_string()).unwrap_or_default()
}

#[test]
fn the_application_role_may_append_the_trail_but_never_change_it() {
    let db = Db::new(None);
    let store = PgStore::open_config(db.config.clone()).unwrap();
    drop(store);
    let mut c = db.superuser();
    c.batch_execute(&format!("SET ROLE {APP_ROLE}")).unwrap();
    let who: String = c
        .query_one("SELECT current_user::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(who, APP_ROLE);
    // The privileges refuse before the trigger is reached: permission denied, not "append-only".
    for sql in [
        "UPDATE audit_events SET reason = 'edited'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "DELETE FROM audit_head",
        "UPDATE unlockdesk_schema SET version = 1",
        "CREATE TABLE smuggled (x int)",
        "DROP TRIGGER audit_events_no_update ON audit_events",
        // The branch server's rows end by a time set on them, never by deleting them.
        "DELETE FROM server_sessions",
        "DELETE FROM terminals",
        "DELETE FROM enrolment_codes",
        "TRUNCATE server_sessions",
    ] {
        let e = c.batch_execute(sql).unwrap_err();
        assert_eq!(
            sqlstate(&e),
            SqlState::INSUFFICIENT_PRIVILEGE.code(),
            "{sql}: {e:?}"
        );
    }
    // What the store does is allowed: read everything, write cases, append the trail.
    for sql in [
        "SELECT count(*) FROM audit_events",
        "SELECT version FROM unlockdesk_schema",
        "UPDATE audit_head SET seq = seq WHERE false",
        "UPDATE cases SET version = version WHERE false",
        "DELETE FROM documents WHERE false",
        "INSERT INTO server_sessions SELECT * FROM server_sessions WHERE false",
        "UPDATE server_sessions SET last_seen = last_seen WHERE false",
        "INSERT INTO terminals SELECT * FROM terminals WHERE false",
        "UPDATE terminals SET revoked_at = revoked_at WHERE false",
        "INSERT INTO enrolment_codes SELECT * FROM enrolment_codes WHERE false",
        "UPDATE enrolment_codes SET used_at = used_at WHERE false",
    ] {
        c.batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    }
}

/// The role is cluster-wide: databases migrated at the same moment (each its own advisory
/// lock) all open, and share the one role.
#[test]
fn databases_migrated_at_once_share_the_one_role() {
    let dbs: Vec<Db> = (0..4).map(|_| Db::new(None)).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = dbs
            .iter()
            .map(|db| s.spawn(|| PgStore::open_config(db.config.clone()).map(drop)))
            .collect();
        for h in handles {
            h.join().unwrap().expect("every database opens");
        }
    });
    let n: i64 = admin()
        .query_one(
            "SELECT count(*) FROM pg_roles WHERE rolname = $1",
            &[&APP_ROLE],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

/// A schema owner who is neither a superuser nor a member of the role: one sentence naming
/// the role and the grant, the database left unmigrated; after the grant it opens.
#[test]
fn an_owner_without_the_role_is_told_what_to_grant() {
    // The role exists (made by this or another test database's migration).
    drop(PgStore::open_config(Db::new(None).config.clone()).unwrap());
    let owner = unique("ud_owner");
    let password = "Owner#Pass2026";
    admin()
        .batch_execute(&format!("CREATE ROLE {owner} LOGIN PASSWORD '{password}'"))
        .unwrap();
    let db = Db::new(Some(&owner));
    let mut config = db.config.clone();
    config.user(&owner).password(password);
    let e = PgStore::open_config(config.clone()).err().expect("refused");
    assert!(
        e.message.contains(APP_ROLE) && e.message.contains("GRANT"),
        "{}",
        e.message
    );
    let version: Option<i32> = db
        .superuser()
        .query_opt("SELECT version FROM unlockdesk_schema", &[])
        .ok()
        .flatten()
        .map(|r| r.get(0));
    assert_eq!(version, None, "nothing was migrated");
    admin()
        .batch_execute(&format!("GRANT {APP_ROLE} TO {owner}"))
        .unwrap();
    PgStore::open_config(config).expect("opens once the role is granted");
    drop(db);
    let _ = admin().batch_execute(&format!(
        "REVOKE {APP_ROLE} FROM {owner}; DROP ROLE IF EXISTS {owner}"
    ));
}
