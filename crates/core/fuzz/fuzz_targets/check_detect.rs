//! Kind detection and every detected parser: no panic, and the result is self-consistent.
#![no_main]
use libfuzzer_sys::fuzz_target;
use unlockdesk_core::identity::{check, DocKind};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 5, 20).unwrap();
    let c = check(None, &s, today);
    assert_eq!(c.valid, c.errors.is_empty());
    assert_eq!(c.valid, c.normalized.is_some());
    if let Some(n) = &c.normalized {
        // Normalised forms are digits and upper-case letters only, and check valid again.
        assert!(
            n.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
            "{n}"
        );
        // (A legacy ID normalises to the 18-digit form; a passport to its document number.)
        let again = match c.kind {
            Some(DocKind::PrcId15) => Some(DocKind::PrcId),
            k => k,
        };
        if again != Some(DocKind::PassportMrz) {
            assert!(check(again, n, today).valid, "{n}");
        }
    }
});
