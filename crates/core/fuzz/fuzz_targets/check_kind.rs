//! Every parser by explicit kind (first byte picks the kind, second the year of "today").
#![no_main]
use libfuzzer_sys::fuzz_target;
use unlockdesk_core::identity::{check, DocKind};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let kind = DocKind::ALL[usize::from(data[0]) % DocKind::ALL.len()];
    let today = chrono::NaiveDate::from_ymd_opt(1900 + i32::from(data[1]), 2, 28).unwrap();
    let s = String::from_utf8_lossy(&data[2..]);
    let c = check(Some(kind), &s, today);
    assert_eq!(c.valid, c.errors.is_empty());
    assert_eq!(c.valid, c.normalized.is_some());
    // Messages stay bounded whatever the input length.
    assert!(c.errors.iter().all(|e| e.message.len() < 1024));
});
