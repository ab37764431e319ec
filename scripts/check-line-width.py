#!/usr/bin/env python3
"""Fail on lines of the Rust sources (`crates/*/src`, `src-tauri/src`) over 100 characters that rustfmt cannot have left there itself.

rustfmt (max_width 100, rustfmt.toml) gives up silently on a statement it cannot fit, for
example a closure holding a long string literal, and `cargo fmt --check` then passes. This
check reports every line over 100 characters (counted in characters, not bytes) that is a
comment or holds no string literal; long string literals (SQL, messages, test data) may stay.
"""
import pathlib
import sys

ROOTS = [str(p) for p in sorted(pathlib.Path("crates").glob("*/src"))] + ["src-tauri/src"]
bad = []
for root in ROOTS:
    for path in sorted(pathlib.Path(root).rglob("*.rs")):
        if "target" in path.parts:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
            if len(line) > 100 and ('"' not in line or line.lstrip().startswith("//")):
                bad.append(f"{path}:{n}: {len(line)} characters")
if bad:
    print("lines over 100 characters (wrap them by hand):", *bad, sep="\n  ")
    sys.exit(1)
print("line width: ok")
