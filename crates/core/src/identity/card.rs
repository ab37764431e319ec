//! Bank card numbers (primary account number, ISO/IEC 7812-1): 16–19 digits with a Luhn check
//! digit. A card corroborates identity; it never proves it alone (docs/domain.md §1, §4).

use super::{ascii_view, character_error, DocCheck, DocFields, DocKind, RuleError};

/// The Luhn check digit (ISO/IEC 7812-1 Annex B) that completes `body` (ASCII digits, caller
/// guarantees): double every second digit from the right of the full number.
pub(crate) fn luhn_check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let v = u32::from(d - b'0');
            if i % 2 == 0 {
                let x = v * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                v
            }
        })
        .sum();
    b'0' + ((10 - sum % 10) % 10) as u8
}

/// Bank card: digits only after removing spaces and hyphens, 16–19 of them, Luhn check digit.
/// The Luhn check is judged only on an allowed length of digits.
pub(crate) fn check_card(s: &str) -> DocCheck {
    let b = ascii_view(s);
    let n = b.len();
    let mut errors = Vec::new();
    if !(16..=19).contains(&n) {
        errors.push(RuleError::new(
            "length",
            format!("expected 16 to 19 digits, found {n} characters"),
        ));
    }
    if let Some(e) = character_error(
        s,
        |_, c| c.is_ascii_digit(),
        "digits only; spaces and hyphens are removed",
    ) {
        errors.push(e);
    }
    if errors.is_empty() {
        let expected = luhn_check_digit(&b[..n - 1]);
        if expected != b[n - 1] {
            errors.push(RuleError::check_digit(
                "check-character",
                "Luhn",
                char::from(expected),
                char::from(b[n - 1]),
            ));
        }
    }
    DocCheck::finish(
        Some(DocKind::BankCard),
        s.to_string(),
        DocFields::default(),
        errors,
    )
}
