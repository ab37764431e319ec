//! Mainland mobile numbers: the pattern only (11 digits, `1[3-9]…`). No table of allocated
//! number blocks: such tables go stale and turn away real customers.

use super::{ascii_view, character_error, DocCheck, DocFields, DocKind, RuleError};

/// Mobile number after removing spaces and hyphens: an optional `+86` or `0086` country prefix
/// (removed from the normalised form), then 11 digits starting `13`–`19`.
pub(crate) fn check_mobile(s: &str) -> DocCheck {
    let national = s
        .strip_prefix("+86")
        .or_else(|| s.strip_prefix("0086"))
        .unwrap_or(s);
    let b = ascii_view(national);
    let n = b.len();
    let mut errors = Vec::new();
    if n != 11 {
        errors.push(RuleError::new(
            "length",
            format!("expected 11 digits (after an optional +86 / 0086), found {n} characters"),
        ));
    }
    if let Some(e) = character_error(
        national,
        |_, c| c.is_ascii_digit(),
        "digits only, after an optional +86 / 0086",
    ) {
        errors.push(e);
    }
    if n >= 1
        && b[0].is_ascii_digit()
        && (b[0] != b'1' || (n >= 2 && b[1].is_ascii_digit() && !(b'3'..=b'9').contains(&b[1])))
    {
        errors.push(RuleError::new(
            "prefix",
            format!(
                "a mainland mobile number starts with 13 to 19, found {}",
                national.chars().take(2).collect::<String>()
            ),
        ));
    }
    DocCheck::finish(
        Some(DocKind::Mobile),
        national.to_string(),
        DocFields::default(),
        errors,
    )
}
