//! TD3 MRZ parser: two arbitrary lines (split at the first newline).
#![no_main]
use libfuzzer_sys::fuzz_target;
use unlockdesk_core::identity::check_mrz;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let (l1, l2) = s.split_once('\n').unwrap_or((&s, ""));
    let today = chrono::NaiveDate::from_ymd_opt(2026, 5, 20).unwrap();
    let c = check_mrz(l1, l2, today);
    assert_eq!(c.valid, c.errors.is_empty());
    if c.valid {
        assert!(c.fields.expiry.is_some());
    }
});
