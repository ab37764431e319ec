//! TLS to the database server (issue 13 item 5), against the throwaway cluster with TLS
//! switched on for the test: a private CA and a server certificate naming `localhost` only are
//! made with the `openssl` command; the store connects with libpq's `sslmode` meanings and
//! says in one sentence why it refuses a server.
//!
//! Run with `scripts/with-postgres.sh cargo test -p unlockdesk-store-pg --test tls`.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use postgres::{Client, Config, NoTls};
use unlockdesk_store_pg::PgStore;

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

/// Statements one by one (ALTER SYSTEM refuses to run inside a multi-statement batch).
fn each(c: &mut Client, sql: &[&str]) -> Result<(), postgres::Error> {
    sql.iter().try_for_each(|q| c.batch_execute(q))
}

fn admin() -> Client {
    base().connect(NoTls).expect("connect to the test cluster")
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command (Debian package openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a second (untrusted) CA, and a server certificate for DNS name `localhost` only.
fn make_certificates(dir: &Path) {
    let ca = |name: &str, cn: &str| {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
                "-days",
                "2",
                "-subj",
                &format!("/CN={cn}"),
            ],
        )
    };
    ca("ca", "UnlockDesk test branch CA");
    ca("other-ca", "Someone else's CA");
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

/// The cluster's TLS settings for the test's length (Debian's clusters start with TLS on and
/// a snake-oil certificate); back as they were (and reloaded) when dropped, so a later restart
/// of the cluster does not look for the removed files.
struct TlsOn {
    dir: PathBuf,
    was: String,
}

impl TlsOn {
    /// TLS off in the cluster, with the files for [`TlsOn::switch_on`] made.
    fn switch_off() -> TlsOn {
        let dir = std::env::temp_dir().join(format!("ud-pg-tls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // The server (user postgres, when the tests run as root) reads the key and certificate.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        make_certificates(&dir);
        let mut c = admin();
        let data_dir: String = c.query_one("SHOW data_directory", &[]).unwrap().get(0);
        let meta = std::fs::metadata(&data_dir).expect("the cluster's data directory");
        for f in ["server.key", "server.crt"] {
            let p = dir.join(f);
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::os::unix::fs::chown(&p, Some(meta.uid()), Some(meta.gid())).unwrap();
        }
        let was: String = c.query_one("SHOW ssl", &[]).unwrap().get(0);
        let on = TlsOn { dir, was };
        each(
            &mut c,
            &["ALTER SYSTEM SET ssl = off", "SELECT pg_reload_conf()"],
        )
        .unwrap();
        on.wait_for("off");
        on
    }

    /// TLS on with the test's own certificate (naming `localhost` only).
    fn switch_on(&self) {
        let cert = self.dir.join("server.crt");
        let key = self.dir.join("server.key");
        each(
            &mut admin(),
            &[
                &format!("ALTER SYSTEM SET ssl_cert_file = '{}'", cert.display()),
                &format!("ALTER SYSTEM SET ssl_key_file = '{}'", key.display()),
                "ALTER SYSTEM SET ssl = on",
                "SELECT pg_reload_conf()",
            ],
        )
        .unwrap();
        self.wait_for("on");
    }

    fn wait_for(&self, want: &str) {
        let started = Instant::now();
        loop {
            let ssl: String = admin().query_one("SHOW ssl", &[]).unwrap().get(0);
            if ssl == want {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the server did not switch ssl to {want} (see its log)"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn file(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for TlsOn {
    fn drop(&mut self) {
        if let Ok(mut c) = base().connect(NoTls) {
            let _ = each(
                &mut c,
                &[
                    "ALTER SYSTEM RESET ssl",
                    "ALTER SYSTEM RESET ssl_cert_file",
                    "ALTER SYSTEM RESET ssl_key_file",
                    "SELECT pg_reload_conf()",
                ],
            );
            let was = self.was.clone();
            self.wait_for(&was);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A URL for database `db` on `host` with the test cluster's user, password and port, plus
/// `query`.
fn url(db: &str, host: &str, query: &str) -> String {
    let b = base();
    let user = b.get_user().unwrap_or("postgres");
    let password = b
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_default();
    let port = b.get_ports().first().copied().unwrap_or(5432);
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    format!(
        "postgresql://{}:{}@{host}:{port}/{db}?{query}",
        enc(user),
        enc(&password)
    )
}

fn refused(url: &str) -> String {
    match PgStore::open(url) {
        Ok(_) => panic!("{url} was accepted"),
        Err(e) => e.message,
    }
}

#[test]
fn tls_to_the_database_with_libpq_sslmodes() {
    let db = format!("ud_tls_{}", std::process::id());
    let mut a = admin();
    // One statement each: DROP DATABASE refuses to run inside a multi-statement batch.
    a.batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .unwrap();
    a.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();

    // A server without TLS: sslmode=require is refused in one sentence.
    let tls = TlsOn::switch_off();
    let m = refused(&url(&db, "localhost", "sslmode=require"));
    assert!(m.contains("does not offer TLS"), "{m}");
    eprintln!("no TLS on the server: {m}");

    tls.switch_on();
    let ca = tls.file("ca.pem");
    let other = tls.file("other-ca.pem");

    // verify-full: the chain and the name (the certificate names localhost).
    let store = PgStore::open(&url(
        &db,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .expect("verify-full to localhost opens");
    let encrypted: i64 = admin()
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.datname = $1 AND a.application_name = 'unlockdesk' AND s.ssl",
            &[&db],
        )
        .unwrap()
        .get(0);
    assert!(encrypted >= 1, "the store's idle connection is encrypted");
    drop(store);

    // verify-full to an address the certificate does not name: refused, saying so.
    let m = refused(&url(
        &db,
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ));
    assert!(m.contains("does not name 127.0.0.1"), "{m}");
    eprintln!("name mismatch: {m}");

    // verify-ca: the chain only.
    PgStore::open(&url(
        &db,
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    ))
    .expect("verify-ca to 127.0.0.1 opens");

    // A root that did not sign the server's certificate: refused (also for require with it).
    for mode in ["verify-full", "verify-ca", "require"] {
        let m = refused(&url(
            &db,
            "localhost",
            &format!("sslmode={mode}&sslrootcert={other}"),
        ));
        assert!(m.contains("not signed by a trusted root"), "{mode}: {m}");
    }
    eprintln!(
        "untrusted root: {}",
        refused(&url(
            &db,
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={other}")
        ))
    );

    // require without a root: encrypted, certificate unchecked (libpq's meaning).
    PgStore::open(&url(&db, "127.0.0.1", "sslmode=require")).expect("require opens");

    drop(tls);
    let _ = admin().batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
}
