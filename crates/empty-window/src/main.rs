//! An empty Tauri 2 window whose page reports ready as soon as it runs: the baseline that
//! `make bench-app` compares UnlockDesk's start-up time and memory with.

/// Prints `UNLOCKDESK_READY` when the page calls it (the same line the real app prints).
#[tauri::command]
fn ui_ready() {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "UNLOCKDESK_READY");
    let _ = out.flush();
}

fn main() {
    if let Err(e) = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![ui_ready])
        .run(tauri::generate_context!())
    {
        eprintln!("empty window failed: {e}");
        std::process::exit(1);
    }
}
