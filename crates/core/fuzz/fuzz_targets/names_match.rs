//! Name comparison on arbitrary document / entered names.
#![no_main]
use libfuzzer_sys::fuzz_target;
use unlockdesk_core::identity::{names_match, DocKind};

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let kind = DocKind::ALL[usize::from(data[0]) % DocKind::ALL.len()];
    let s = String::from_utf8_lossy(&data[1..]);
    let (a, b) = s.split_once('|').unwrap_or((&s, ""));
    let _ = names_match(kind, a, b);
});
