//! Generates the app's command permissions (`allow-<command>`) that the capability lists.

use tauri_build::{AppManifest, Attributes};

include!("src/commands/names.rs");

fn main() {
    println!("cargo:rerun-if-changed=src/commands/names.rs");
    tauri_build::try_build(Attributes::new().app_manifest(AppManifest::new().commands(COMMANDS)))
        .expect("tauri build script");
}
