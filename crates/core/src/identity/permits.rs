//! Travel permits and the 2017 permanent-residence card: format rules only, since these numbers
//! carry no check digit.

use super::{ascii_view, character_error, show_char, DocCheck, DocFields, DocKind, RuleError};

/// Mainland travel permit for Hong Kong and Macau residents (港澳居民来往内地通行证, 回乡证):
/// `H` (Hong Kong) or `M` (Macau) + 8 digits, older cards + a 2-digit renewal count. No check
/// digit; the first 9 characters identify the person across renewals (`fields.person_key`).
/// The normalised form keeps the renewal digits (`M1234567801`).
pub(crate) fn check_hk_macau(s: &str) -> DocCheck {
    let b = ascii_view(s);
    let n = b.len();
    let mut errors = Vec::new();
    let mut fields = DocFields::default();
    if n != 9 && n != 11 {
        errors.push(RuleError::new(
            "length",
            format!("expected 9 characters (H/M + 8 digits) or 11 (with the 2-digit renewal count), found {n}"),
        ));
    }
    match b[0] {
        b'H' => fields.issuer = Some("HK".into()),
        b'M' => fields.issuer = Some("MO".into()),
        _ => errors.push(RuleError::new(
            "prefix",
            format!(
                "starts with H (Hong Kong) or M (Macau), found {}",
                show_char(s.chars().next().unwrap_or(' '))
            ),
        )),
    }
    // Position 1 is judged by the prefix rule when it is a letter; other junk there is a
    // character error too.
    if let Some(e) = character_error(
        s,
        |i, c| c.is_ascii_digit() || (i == 0 && c.is_ascii_uppercase()),
        "H or M, then digits only",
    ) {
        errors.push(e);
    }
    if errors.is_empty() {
        fields.person_key = Some(s[..9].to_string());
        if n == 11 {
            fields.renewal_count = s[9..].parse().ok();
        }
    }
    DocCheck::finish(Some(DocKind::HkMacauPermit), s.to_string(), fields, errors)
}

/// Mainland travel permit for Taiwan residents (台湾居民来往大陆通行证, 台胞证): 8 digits on
/// current cards; legacy booklets 10 digits (8 + 2-digit issue count), sometimes followed by a
/// bracketed letter, e.g. `1234567890(B)`. The normalised form is digits then the letter, no
/// brackets (`1234567890B`), which checks valid again. No check digit.
pub(crate) fn check_taiwan(s: &str) -> DocCheck {
    let b = ascii_view(s);
    let mut errors = Vec::new();
    let mut fields = DocFields::default();

    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let rest = &b[digits..];
    // Accept `L`, `(L)` after the digits; anything else is a format or character error.
    let letter: Option<u8> = match rest {
        [] => None,
        [l] if l.is_ascii_uppercase() => Some(*l),
        [b'(', l, b')'] if l.is_ascii_uppercase() => Some(*l),
        _ => {
            if let Some(e) = character_error(
                s,
                |_, c| c.is_ascii_digit() || c.is_ascii_uppercase() || c == '(' || c == ')',
                "digits, optionally followed by one letter in brackets",
            ) {
                errors.push(e);
            } else {
                errors.push(RuleError::new(
                    "format",
                    "expected 8 or 10 digits, optionally followed by one letter in brackets, e.g. 1234567890(B)",
                ));
            }
            None
        }
    };
    if errors.is_empty() && digits != 8 && digits != 10 {
        errors.push(RuleError::new(
            "length",
            format!("expected 8 digits (legacy: 10), found {digits}"),
        ));
    }
    let mut normalized = String::from_utf8_lossy(&b[..digits]).into_owned();
    if let Some(l) = letter {
        normalized.push(char::from(l));
    }
    if errors.is_empty() {
        fields.person_key = Some(normalized[..8].to_string());
        if digits == 10 {
            fields.renewal_count = normalized[8..10].parse().ok();
        }
        fields.suffix_letter = letter.map(|l| char::from(l).to_string());
    }
    DocCheck::finish(Some(DocKind::TaiwanPermit), normalized, fields, errors)
}

/// 2017 foreign permanent resident ID (外国人永久居留身份证, 2017 edition): 3 letters
/// (nationality, reported as is, not looked up) + 12 digits. Format only (docs/domain.md §4):
/// the edition's check scheme is not public.
pub(crate) fn check_fpr_2017(s: &str) -> DocCheck {
    let b = ascii_view(s);
    let n = b.len();
    let mut errors = Vec::new();
    let mut fields = DocFields {
        card_version: Some("2017".into()),
        ..DocFields::default()
    };
    if n != 15 {
        errors.push(RuleError::new(
            "length",
            format!("expected 15 characters (3 letters + 12 digits), found {n}"),
        ));
    }
    if let Some(e) = character_error(
        s,
        |i, c| {
            if i < 3 {
                c.is_ascii_uppercase()
            } else {
                c.is_ascii_digit()
            }
        },
        "3 letters, then 12 digits",
    ) {
        errors.push(e);
    }
    if n >= 3 && b[..3].iter().all(u8::is_ascii_uppercase) {
        fields.nationality = Some(s[..3].to_string());
    }
    DocCheck::finish(
        Some(DocKind::ForeignPermanentId),
        s.to_string(),
        fields,
        errors,
    )
}
