//! UnlockDesk desktop shell: window, plugins, permissions, logging and the IPC surface.
//!
//! Commands are thin (see `commands`): take managed state, call one core use case on a blocking
//! thread, and return core's `{code, message, fields}` error unchanged. No rules live here.

mod commands;
#[cfg(test)]
mod ipc_tests;
mod live;
mod logging;
mod state;
mod terminal;

use tauri::utils::config::AppDirectoriesOverride;
use tauri::Manager;

/// Starts the desktop app. Panics only when the window system cannot start at all.
pub fn run() {
    let mut context = tauri::generate_context!();
    // With UNLOCKDESK_DATA_DIR (tests, demos) every app directory follows it, so `$APPDATA`
    // in the opener's scope is the directory that holds the database and the printed PDFs,
    // and test runs never touch real data.
    // The `--data-dir DIR` argument does the same (a test starts a second window on its own).
    let dir = terminal::arg("data-dir")
        .map(std::ffi::OsString::from)
        .or_else(|| std::env::var_os("UNLOCKDESK_DATA_DIR").filter(|d| !d.is_empty()));
    if let Some(dir) = dir {
        let dir = std::path::absolute(&dir).unwrap_or_else(|_| dir.into());
        context.config_mut().app.app_directories_override = Some(AppDirectoriesOverride::Root(dir));
    }
    tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .setup(|app| {
            let log_dir = app.path().app_log_dir()?;
            app.manage(logging::init(&log_dir));
            tracing::info!(version = env!("CARGO_PKG_VERSION"), "UnlockDesk started");
            app.manage(state::AppState::open());
            app.manage(live::Live::default());
            live::start(app.handle().clone());
            Ok(())
        })
        .invoke_handler(commands::handler())
        .run(context)
        .expect("error while running UnlockDesk");
}
