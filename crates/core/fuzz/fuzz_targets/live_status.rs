//! Live feedback on arbitrary partial input of every kind.
#![no_main]
use libfuzzer_sys::fuzz_target;
use unlockdesk_core::identity::{live_status, DocKind};

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let kind = DocKind::ALL[usize::from(data[0]) % DocKind::ALL.len()];
    let s = String::from_utf8_lossy(&data[1..]);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 5, 20).unwrap();
    let _ = live_status(kind, &s, today);
});
