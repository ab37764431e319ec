//! A small connection pool: at most [`MAX_CONNECTIONS`] connections per store, idle ones kept
//! for reuse with their prepared statements. (r2d2 would add a scheduler thread pool and
//! three crates for what is forty lines here.) A connection found closed (server restarted,
//! network dropped) is thrown away and a new one made on the next checkout.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use postgres::config::Host;
use postgres::{Client, NoTls, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;
use unlockdesk_core::{CoreError, CoreResult, ErrorCode};

/// Connections one store opens at most; a caller beyond that waits for one to come back.
pub const MAX_CONNECTIONS: usize = 16;
/// Connection tries while the server says it is starting up (250 ms apart).
const STARTUP_TRIES: u32 = 12;
/// How long a caller waits for a free connection before `storage`.
const CHECKOUT_WAIT: Duration = Duration::from_secs(30);

/// One connection and the statements prepared on it (by SQL text).
pub(crate) struct Conn {
    pub client: Client,
    pub stmts: HashMap<String, Statement>,
}

struct State {
    idle: Vec<Conn>,
    open: usize,
}

pub(crate) struct Pool {
    config: postgres::Config,
    /// TLS for a server on another host (`None`: plain, this machine only).
    tls: Option<MakeRustlsConnect>,
    /// The role every pooled connection `SET ROLE`s to right after connecting.
    role: &'static str,
    state: Mutex<State>,
    freed: Condvar,
}

/// A checked-out connection; back to the pool when dropped (unless it was closed).
pub(crate) struct Pooled<'p> {
    pool: &'p Pool,
    conn: Option<Conn>,
}

impl Pool {
    pub fn new(
        config: postgres::Config,
        tls: Option<MakeRustlsConnect>,
        role: &'static str,
    ) -> Self {
        Pool {
            config,
            tls,
            role,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is two plain fields, consistent after any panic.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle connection, or a new one. Errors: `storage` (cannot connect, or every
    /// connection busy for [`CHECKOUT_WAIT`]).
    pub fn get(&self) -> CoreResult<Pooled<'_>> {
        let mut st = self.lock();
        loop {
            while let Some(conn) = st.idle.pop() {
                if conn.client.is_closed() {
                    st.open -= 1;
                    continue;
                }
                return Ok(Pooled {
                    pool: self,
                    conn: Some(conn),
                });
            }
            if st.open < MAX_CONNECTIONS {
                st.open += 1;
                drop(st);
                return match self.connect() {
                    Ok(conn) => Ok(Pooled {
                        pool: self,
                        conn: Some(conn),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let (next, timeout) = self
                .freed
                .wait_timeout(st, CHECKOUT_WAIT)
                .unwrap_or_else(|p| p.into_inner());
            st = next;
            if timeout.timed_out() && st.idle.is_empty() && st.open >= MAX_CONNECTIONS {
                return Err(CoreError::new(
                    ErrorCode::Unavailable,
                    format!(
                        "all {MAX_CONNECTIONS} database connections stayed busy for {} s",
                        CHECKOUT_WAIT.as_secs()
                    ),
                ));
            }
        }
    }

    /// A connection as the URL's user, without `SET ROLE` (for the migrations, which need the
    /// schema owner's rights). Errors: `storage`, one sentence.
    pub fn connect_owner(&self) -> CoreResult<Client> {
        let mut attempt = 1;
        loop {
            let connected = match &self.tls {
                Some(tls) => self.config.connect(tls.clone()),
                None => self.config.connect(NoTls),
            };
            match connected {
                // "The database system is starting up" (57P03): a server restarting answers
                // within a second or two; a teller's step waits for it rather than failing.
                Err(e)
                    if attempt < STARTUP_TRIES
                        && e.code() == Some(&postgres::error::SqlState::CANNOT_CONNECT_NOW) =>
                {
                    std::thread::sleep(Duration::from_millis(250));
                    attempt += 1;
                }
                other => return other.map_err(|e| connect_error(&self.config, e)),
            }
        }
    }

    /// A connection as the application role, outside the pool (the audit listener's own).
    pub(crate) fn connect_app(&self) -> CoreResult<Client> {
        self.connect().map(|c| c.client)
    }

    fn connect(&self) -> CoreResult<Conn> {
        let mut client = self.connect_owner()?;
        // The identifier is a constant of this crate, never input: quoting it is enough.
        client
            .batch_execute(&format!("SET ROLE \"{}\"", self.role))
            .map_err(|e| {
                let user = self.config.get_user().unwrap_or("(default)");
                CoreError::storage(format!(
                    "the database user {user} cannot act as the application role {role} ({}): \
                     as a superuser, run GRANT {role} TO \"{user}\"",
                    crate::describe(&e),
                    role = self.role,
                ))
            })?;
        Ok(Conn {
            client,
            stmts: HashMap::new(),
        })
    }

    /// Drops every idle connection. Called when a connection was found lost: the others were
    /// opened before the same outage (a server restart, a dropped network) and would each
    /// fail one more attempt; the next checkout connects anew.
    pub fn discard_idle(&self) {
        let mut st = self.lock();
        let dead = std::mem::take(&mut st.idle);
        st.open -= dead.len();
        drop(st);
        // Closing a client may block on its socket: never under the pool's lock.
        drop(dead);
        self.freed.notify_all();
    }

    fn give_back(&self, conn: Option<Conn>) {
        let mut st = self.lock();
        match conn {
            Some(c) if !c.client.is_closed() => st.idle.push(c),
            _ => st.open -= 1,
        }
        drop(st);
        self.freed.notify_one();
    }
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
            .as_ref()
            .expect("a pooled connection is present until dropped")
    }
}
impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .expect("a pooled connection is present until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        self.pool.give_back(self.conn.take());
    }
}

/// One sentence for a failed connection: refused login, missing database, unreachable server.
fn connect_error(config: &postgres::Config, e: postgres::Error) -> CoreError {
    let target = format!(
        "database '{}' on {}",
        config.get_dbname().unwrap_or("(default)"),
        describe_hosts(config)
    );
    // A server that is down, starting or shutting down is `unavailable` (a branch server
    // answers 503 and clients retry); a refused login or a TLS mismatch is `storage`, for an
    // administrator to fix.
    match e.as_db_error() {
        Some(db) if db.code().code().starts_with("57P") => CoreError::new(
            ErrorCode::Unavailable,
            format!("cannot open the {target}: {}", db.message()),
        ),
        Some(db) => CoreError::storage(format!("cannot open the {target}: {}", db.message())),
        None => match tls_problem(&e, config) {
            Some(why) => CoreError::storage(format!("cannot open the {target}: {why}")),
            None => CoreError::new(
                ErrorCode::Unavailable,
                format!("cannot reach the {target}: {}", crate::describe(&e)),
            ),
        },
    }
}

/// A failed TLS handshake in one clause: which check failed and what to do.
fn tls_problem(e: &postgres::Error, config: &postgres::Config) -> Option<String> {
    use rustls::CertificateError as C;
    let host = config
        .get_hosts()
        .iter()
        .find_map(|h| match h {
            Host::Tcp(name) => Some(name.clone()),
            Host::Unix(_) => None,
        })
        .unwrap_or_default();
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = src {
        // An io::Error's `source` skips the error it wraps: look at that one too.
        let wrapped = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        let rustls_err = err
            .downcast_ref::<rustls::Error>()
            .or_else(|| wrapped.and_then(|w| w.downcast_ref::<rustls::Error>()));
        if let Some(r) = rustls_err {
            return Some(match r {
                rustls::Error::InvalidCertificate(C::NotValidForName)
                | rustls::Error::InvalidCertificate(C::NotValidForNameContext { .. }) => format!(
                    "the server's certificate does not name {host}: connect by a name its \
                     certificate gives, or use sslmode=verify-ca"
                ),
                rustls::Error::InvalidCertificate(C::UnknownIssuer)
                | rustls::Error::InvalidCertificate(C::BadSignature) => {
                    "the server's certificate is not signed by a trusted root (sslrootcert \
                     names the file of the CA that signed it)"
                        .to_string()
                }
                rustls::Error::InvalidCertificate(C::Expired)
                | rustls::Error::InvalidCertificate(C::ExpiredContext { .. }) => {
                    "the server's certificate has expired".to_string()
                }
                rustls::Error::InvalidCertificate(C::NotValidYet)
                | rustls::Error::InvalidCertificate(C::NotValidYetContext { .. }) => {
                    "the server's certificate is not valid yet (check this machine's clock)"
                        .to_string()
                }
                other => format!("the TLS handshake with the server failed ({other})"),
            });
        }
        src = wrapped.or_else(|| err.source());
    }
    crate::describe(e)
        .contains("server does not support TLS")
        .then(|| "the server does not offer TLS, and the URL's sslmode requires it".to_string())
}

fn describe_hosts(config: &postgres::Config) -> String {
    let ports = config.get_ports();
    config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match h {
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(path) => format!("{} (port {port})", path.display()),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
