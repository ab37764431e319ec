//! Logging of the CLI: warnings to stderr, and info events to a daily-rotating
//! file in `<data dir>/logs/` (the data dir is the database's directory), like the desktop
//! app. `UNLOCKDESK_LOG` (an `EnvFilter`, e.g. `info` or `debug`) overrides both levels.
//!
//! Events carry ids, case numbers, actions and staff ids; personal numbers never reach a log
//! (docs/domain.md §5): the core logs C1 facts only and the CLI logs no command arguments.

use std::path::Path;

use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter, Layer};

/// The environment variable that sets the log level.
pub const ENV: &str = "UNLOCKDESK_LOG";

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_env(ENV).unwrap_or_else(|_| EnvFilter::new(default))
}

/// Install the global subscriber. With `data_dir`, also log to `data_dir/logs/unlockdesk-cli.
/// YYYY-MM-DD.log` (kept 30 days). A log directory that cannot be created is reported on
/// stderr and the command still runs.
pub fn init(data_dir: Option<&Path>) {
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(filter("warn"));
    let file = data_dir.and_then(|d| {
        let dir = d.join("logs");
        let built = std::fs::create_dir_all(&dir)
            .map_err(|e| e.to_string())
            .and_then(|_| {
                tracing_appender::rolling::Builder::new()
                    .rotation(tracing_appender::rolling::Rotation::DAILY)
                    .filename_prefix("unlockdesk-cli")
                    .filename_suffix("log")
                    .max_log_files(30)
                    .build(&dir)
                    .map_err(|e| e.to_string())
            });
        match built {
            // Written synchronously: a short-lived command must not lose its last lines.
            Ok(appender) => Some(
                fmt::layer()
                    .with_writer(appender)
                    .with_ansi(false)
                    .with_filter(filter("info")),
            ),
            Err(e) => {
                eprintln!("warning: cannot log to {}: {e}", dir.display());
                None
            }
        }
    });
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init();
}
