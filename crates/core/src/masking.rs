//! The one masking module, used for screens, logs, CLI output and customer copies.
//!
//! Patterns follow common practice for C2 personal financial information (JR/T 0171-2020;
//! docs/domain.md §5): ID number first 3 + last 4, phone 3 + 4, card first 6 + last 4, name
//! surname only. Masking counts characters, not bytes, so CJK input never splits a character.

use crate::model::{Appointment, Case};

/// Keep the first `head` and last `tail` characters, replace the middle with `*`.
/// Values too short to keep both ends are fully starred (never shown in clear).
pub fn mask_middle(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    if n <= head + tail {
        // Too short to mask meaningfully: show at most the last character count allowed.
        if n > tail && tail > 0 {
            let mut s: String = "*".repeat(n - tail);
            s.extend(&chars[n - tail..]);
            return s;
        }
        return "*".repeat(n);
    }
    let mut s: String = chars[..head].iter().collect();
    s.push_str(&"*".repeat(n - head - tail));
    s.extend(&chars[n - tail..]);
    s
}

/// ID document number: first 3 + last 4 (`110***********1233`).
pub fn id_number(v: &str) -> String {
    mask_middle(v, 3, 4)
}

/// Mobile number: first 3 + last 4 (`131****6789`).
pub fn phone(v: &str) -> String {
    mask_middle(v, 3, 4)
}

/// Bank card: first 6 + last 4 (`620000******0005`).
pub fn card(v: &str) -> String {
    mask_middle(v, 6, 4)
}

/// Wallet id: first 4 + last 4 (wallet ids are long opaque strings; [choice]).
pub fn wallet(v: &str) -> String {
    mask_middle(v, 4, 4)
}

/// Personal name: surname only (`张**`). Latin names (containing a space or ASCII letters)
/// keep the first word's initial: `ZHANG San` → `Z**** ***`.
pub fn name(v: &str) -> String {
    let v = v.trim();
    let mut chars = v.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let rest: String = chars
        .map(|c| if c.is_whitespace() { c } else { '*' })
        .collect();
    format!("{first}{rest}")
}

/// A free-text value that may contain a number: used for log lines. Every run of 7 or more
/// digits (or digits with a trailing X) is masked as an id-like number.
pub fn scrub_digits(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= 7 {
            out.push_str(&mask_middle(run, 3, 4));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() || ((c == 'X' || c == 'x') && !run.is_empty()) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Mask every C2 value on a case for display (docs/domain.md §5).
pub fn mask_case(c: &Case) -> Case {
    let mut m = c.clone();
    m.phone = phone(&m.phone);
    if let Some(i) = &mut m.identity {
        i.number = id_number(&i.number);
        if let Some(r) = &i.reference {
            i.reference = Some(scrub_digits(r));
        }
    }
    if let Some(f) = &mut m.form {
        f.id_number = id_number(&f.id_number);
        f.phone = phone(&f.phone);
        f.bank_card = card(&f.bank_card);
        f.wallet_id = wallet(&f.wallet_id);
        if let Some(a) = &mut f.agent {
            a.id_number = id_number(&a.id_number);
            a.phone = phone(&a.phone);
        }
    }
    m
}

/// Mask an appointment's C2 values for display.
pub fn mask_appointment(a: &Appointment) -> Appointment {
    let mut m = a.clone();
    m.phone = phone(&m.phone);
    m.id_number = if m.id_number.chars().count() <= 4 {
        m.id_number.clone()
    } else {
        id_number(&m.id_number)
    };
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_patterns() {
        assert_eq!(id_number("110105194912310021"), "110***********0021");
        assert_eq!(phone("13123456789"), "131****6789");
        assert_eq!(card("6200000000000005"), "620000******0005");
        assert_eq!(name("张三丰"), "张**");
        assert_eq!(name("ZHANG SAN"), "Z**** ***");
    }

    #[test]
    fn short_values_never_show_in_clear() {
        assert_eq!(
            id_number("1234"),
            "1234".chars().map(|_| '*').collect::<String>()
        );
        assert_eq!(phone("12345678"), "123*5678");
        assert_eq!(mask_middle("", 3, 4), "");
        assert_eq!(id_number("123456"), "**3456");
    }

    #[test]
    fn scrub_masks_long_digit_runs_only() {
        assert_eq!(
            scrub_digits("id 11010519491231002X ok 2026"),
            "id 110***********002X ok 2026"
        );
        assert_eq!(scrub_digits("phone 13123456789."), "phone 131****6789.");
    }
}
