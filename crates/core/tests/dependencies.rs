//! The dependency rule, enforced: core's normal dependency tree holds no IO crate (no shell,
//! database, PDF, async runtime or HTTP stack), so the domain and the use cases stay testable
//! without GTK, a database or a network.

use std::process::Command;

/// Crates that would bring IO into core.
const FORBIDDEN: &[&str] = &[
    "tauri", "rusqlite", "printpdf", "tokio", "reqwest", "ureq", "hyper", "axum", "postgres",
    "sqlx",
];

#[test]
fn core_depends_on_no_io_crate() {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-p",
            "unlockdesk-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.contains(&"unlockdesk-core"), "{tree}");
    assert!(names.contains(&"serde"), "the tree was read: {tree}");
    let found: Vec<&&str> = names.iter().filter(|n| FORBIDDEN.contains(n)).collect();
    assert!(found.is_empty(), "core depends on {found:?}");
}
