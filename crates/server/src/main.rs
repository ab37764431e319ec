//! `unlockdesk-server`: the branch server. Every counter of a branch works through it on one
//! store (PostgreSQL, or an embedded-store file); terminals never hold database credentials.
//!
//! ```text
//! unlockdesk-server --db URL_OR_PATH --listen ADDR:PORT
//!                   [--tls-cert FILE --tls-key FILE | --tls-self-signed] [--data-dir DIR]
//! ```
//!
//! * Without TLS it binds only to a loopback address (and says so on stderr); any other
//!   address without TLS is refused (exit 2).
//! * `--tls-self-signed` makes (once) and keeps a branch certificate in the data directory and
//!   prints its SHA-256 fingerprint, which terminals pin at enrolment.
//! * When it accepts requests it prints exactly one line `UNLOCKDESK_SERVER_READY <base URL>`
//!   on stdout (`scheme://host:port`, no path).
//! * SIGTERM or SIGINT: stops accepting, lets requests in flight finish (up to 30 s), exits 0.
//!
//! Exit codes: 0 stopped cleanly, 1 the store or the certificate could not be opened, 2 usage.

mod app;
mod backend;
mod error;
mod events;
mod openapi;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use unlockdesk_core::ports::{OsEntropy, Store, SystemClock};
use unlockdesk_core::service::Service;

/// glibc's malloc arenas for this process, set through `MALLOC_ARENA_MAX`.
const MALLOC_ARENAS: &str = "2";

/// Set (to `1`) in the re-executed process: a second start never re-executes again, even if
/// the loader dropped `MALLOC_ARENA_MAX` from the environment (glibc may, in secure-execution
/// mode: set-uid binaries, or a binary given file capabilities to bind port 443), which would
/// otherwise loop.
const REEXEC_MARK: &str = "UNLOCKDESK_SERVER_REEXECUTED";

/// Start again (same process id, same arguments and argv[0], `exec` of `/proc/self/exe`, the
/// same file even if the binary was replaced on disk since) with `MALLOC_ARENA_MAX` set,
/// unless it is set already (an operator's own value is kept) or this is the second start.
///
/// Why: glibc gives threads up to eight arenas per core and each keeps its high-water mark;
/// under a branch's load (32 terminals) that held ~25 MiB of freed memory beyond the live heap
/// (the load bench: peak RSS 104 MiB with the default, 79 MiB with one arena, no change in
/// latency or CPU). The variable is read only when the process starts, and setting it from
/// inside would need `mallopt` (unsafe code, which the workspace forbids). If `exec` fails
/// the server carries on with glibc's default and says so.
fn bound_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os("MALLOC_ARENA_MAX").is_some() || std::env::var_os(REEXEC_MARK).is_some()
        {
            return;
        }
        let mut args = std::env::args_os();
        let arg0 = args.next().unwrap_or_else(|| "unlockdesk-server".into());
        let err = std::process::Command::new("/proc/self/exe")
            .arg0(arg0)
            .args(args)
            .env("MALLOC_ARENA_MAX", MALLOC_ARENAS)
            .env(REEXEC_MARK, "1")
            .exec();
        eprintln!(
            "note: could not restart with MALLOC_ARENA_MAX={MALLOC_ARENAS} ({err}); \
             running with glibc's default arenas"
        );
    }
}

/// Threads for the store's blocking calls (see where the runtime is built).
const BLOCKING_THREADS: usize = 16;

/// UnlockDesk branch server: the use cases over HTTP/JSON for every counter of a branch.
#[derive(Parser, Debug)]
#[command(name = "unlockdesk-server", version, about)]
struct Args {
    /// The store: a `postgres://` / `postgresql://` URL, or an embedded-store file (default:
    /// $UNLOCKDESK_DATABASE_URL).
    #[arg(long, value_name = "URL_OR_PATH", env = "UNLOCKDESK_DATABASE_URL")]
    db: String,
    /// Address and port to listen on, e.g. 127.0.0.1:8443 (port 0 picks a free one).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// PEM certificate chain for TLS (with --tls-key).
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        conflicts_with = "tls_self_signed"
    )]
    tls_cert: Option<PathBuf>,
    /// PEM private key for TLS (with --tls-cert).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Make (once) and keep a branch certificate in the data directory.
    #[arg(long)]
    tls_self_signed: bool,
    /// Where the self-signed certificate and the logs live (default: $UNLOCKDESK_DATA_DIR or
    /// the platform data directory).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return ExitCode::from(if code == 0 { 0 } else { 2 });
        }
    };
    bound_malloc_arenas();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("UNLOCKDESK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    // ring, not aws-lc-rs: no C build on every cold CI run (the store's TLS does the same).
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = args.tls_cert.is_some() || args.tls_self_signed;
    if !tls && !args.listen.ip().is_loopback() {
        eprintln!(
            "error: {} is not a loopback address: the branch server serves other hosts only over TLS (--tls-cert/--tls-key or --tls-self-signed)",
            args.listen.ip()
        );
        return ExitCode::from(2);
    }
    if !tls {
        eprintln!(
            "note: no TLS: listening on the loopback address {} only (clients on this host)",
            args.listen
        );
    }
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(unlockdesk_store::data_dir);
    let svc: Arc<dyn backend::Backend> = match open_store(&args.db) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot open the store: {}", e.message);
            return ExitCode::from(1);
        }
    };
    // Blocking threads: the use cases run here, each mostly a store transaction; the store's
    // pool has 16 PostgreSQL connections, so more threads would only wait for one (password
    // checks and renders take their gate's permit before a thread). And every thread that
    // allocates may take a malloc arena of its own, which keeps its high-water mark.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    // The store's PostgreSQL connections block on a runtime of their own when dropped: the
    // last reference must go after this runtime has stopped, never inside it.
    let keep = svc.clone();
    // The outbox worker: customer SMS and cases waiting for the operator. Several servers on
    // one database share the work (FOR UPDATE SKIP LOCKED and leases in the store).
    let stop_worker = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let counter: Arc<dyn unlockdesk_core::Counter> = svc.clone().as_counter();
    let worker = match unlockdesk_operator::spawn_outbox_worker(
        move || Some(counter.clone()),
        &format!("server:{}", args.listen),
        stop_worker.clone(),
    ) {
        Ok(h) => Some(h),
        Err(e) => {
            eprintln!("warning: the outbox worker did not start: {e}");
            None
        }
    };
    let code = rt.block_on(serve(args, svc, data_dir));
    stop_worker.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(w) = worker {
        let _ = w.join();
    }
    drop(rt);
    drop(keep);
    code
}

fn open_store(db: &str) -> unlockdesk_core::CoreResult<Arc<dyn backend::Backend>> {
    let lower = db.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        let store = unlockdesk_store_pg::PgStore::open(db)?;
        if !store.is_encrypted() {
            eprintln!(
                "warning: no key source (UNLOCKDESK_KEY_FILE is not set): the branch database's personal data is not encrypted"
            );
        }
        Ok(service(store))
    } else {
        let store = unlockdesk_store::SqliteStore::open(std::path::Path::new(db))?;
        if !store.is_encrypted() {
            eprintln!(
                "warning: no key source (UNLOCKDESK_KEY_FILE is not set): the store {db} is not encrypted"
            );
        }
        Ok(service(store))
    }
}

fn service<S: Store + 'static>(store: S) -> Arc<dyn backend::Backend> {
    let svc = Service::new(store, Arc::new(SystemClock), Arc::new(OsEntropy))
        .with_renderer(Arc::new(unlockdesk_forms::PdfRenderer::new()));
    Arc::new(match unlockdesk_operator::HttpConnectors::from_env() {
        Ok(c) => svc.with_connectors(Arc::new(c)),
        Err(e) => {
            eprintln!("warning: {e}; the operator's connector is off (manual path)");
            svc
        }
    })
}

async fn serve(args: Args, svc: Arc<dyn backend::Backend>, data_dir: PathBuf) -> ExitCode {
    let state = app::AppState::new(svc);
    let draining = state.clone();
    let router = app::router(state);
    let make = router.into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let shutdown = handle.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stopping: finishing the requests in flight");
        draining.stop();
        shutdown.graceful_shutdown(Some(Duration::from_secs(30)));
    });
    let ready = handle.clone();
    let scheme = if args.tls_cert.is_some() || args.tls_self_signed {
        "https"
    } else {
        "http"
    };
    let listen = args.listen;
    tokio::spawn(async move {
        if let Some(addr) = ready.listening().await {
            let host = match addr.ip() {
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                ip => ip.to_string(),
            };
            println!("UNLOCKDESK_SERVER_READY {scheme}://{host}:{}", addr.port());
            tracing::info!(%addr, version = app::VERSION, "accepting requests");
        }
    });
    let result = if scheme == "https" {
        let (cert, key) = match (&args.tls_cert, &args.tls_key) {
            (Some(c), Some(k)) => (c.clone(), k.clone()),
            _ => match tls::self_signed(&data_dir, listen.ip()) {
                Ok(pair) => pair,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(1);
                }
            },
        };
        let fingerprint = match tls::fingerprint_of_pem(&cert) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        };
        println!("certificate SHA-256 fingerprint: {fingerprint}");
        let config = match axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!(
                    "error: cannot use the certificate {} and key {}: {e}",
                    cert.display(),
                    key.display()
                );
                return ExitCode::from(1);
            }
        };
        axum_server::bind_rustls(listen, config)
            .handle(handle)
            .serve(make)
            .await
    } else {
        axum_server::bind(listen).handle(handle).serve(make).await
    };
    match result {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot listen on {listen}: {e}");
            ExitCode::from(1)
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
