//! Input normalisation shared by every number field: fold full-width forms to ASCII, then let
//! the caller be strict. Nothing here maps an unknown character to a digit (docs/domain.md §4,
//! "Any number input").

/// Fold full-width ASCII variants (U+FF01..U+FF5E) to ASCII and the ideographic space
/// (U+3000) to a plain space. Every other character is kept as it is, so a later strict check
/// still sees junk as junk.
pub fn fold_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// Fold width, then drop whitespace (ASCII, ideographic, no-break). Used for ID numbers.
pub fn compact(s: &str) -> String {
    fold_width(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Fold width, then drop whitespace and hyphens. Used for card and phone numbers, which people
/// write in groups (`6200 0000 0000 0005`, `131-2345-6789`).
pub fn compact_grouped(s: &str) -> String {
    fold_width(s)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

/// Normalise a person's name for comparison: fold width, trim, collapse inner whitespace,
/// remove the middle dot variants used in transliterated names (·, ・, •) only as separators.
pub fn name_key(s: &str) -> String {
    let folded = fold_width(s);
    let mut out = String::new();
    for part in folded.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    out.replace(['・', '•', '‧'], "·")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_digits_and_letters() {
        assert_eq!(fold_width("１２３ＡＢｘ"), "123ABx");
        assert_eq!(compact("１１０ １０５\u{3000}１９４９"), "1101051949");
        assert_eq!(compact_grouped("131-2345 6789"), "13123456789");
    }

    #[test]
    fn keeps_junk_as_junk() {
        assert_eq!(compact("12a?"), "12a?");
        assert_eq!(fold_width("一二三"), "一二三");
    }

    #[test]
    fn name_key_collapses_space() {
        assert_eq!(name_key("  张　三 "), "张 三");
    }
}
