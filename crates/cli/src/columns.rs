//! Readable output in columns and in the branch's local time.
//!
//! A terminal gives East Asian Wide and Fullwidth characters (汉字, kana, hangul, full-width
//! forms) two columns (Unicode Standard Annex #11), so padding by `char` count misaligns a
//! table of Chinese names; [`pad`] pads by display width instead. Times are stored in UTC and
//! shown in the branch's IANA time zone, as the printed forms show them.

use chrono::{DateTime, Utc};
use unlockdesk_core::Branch;

/// Terminal columns of one character: 0 for control and combining characters, 2 for East Asian
/// Wide (W) and Fullwidth (F) ones (UAX #11; the ranges below are the W/F blocks of Unicode 15),
/// 1 otherwise (Ambiguous counts as narrow, as in a non-CJK locale).
pub fn char_width(c: char) -> usize {
    let u = c as u32;
    if u < 0x20 || (0x7f..0xa0).contains(&u) {
        return 0;
    }
    const ZERO: &[(u32, u32)] = &[
        (0x0300, 0x036F), // combining diacritical marks
        (0x200B, 0x200F), // zero width space, joiners, direction marks
        (0x20D0, 0x20FF), // combining marks for symbols
        (0xFE00, 0xFE0F), // variation selectors
        (0xFE20, 0xFE2F), // combining half marks
    ];
    const WIDE: &[(u32, u32)] = &[
        (0x1100, 0x115F),   // Hangul Jamo initial consonants
        (0x231A, 0x231B),   // watch, hourglass
        (0x2329, 0x232A),   // angle brackets
        (0x2E80, 0x303E),   // CJK radicals, Kangxi radicals, CJK symbols and punctuation
        (0x3041, 0x33FF),   // kana, bopomofo, Hangul compatibility jamo, enclosed CJK
        (0x3400, 0x4DBF),   // CJK Unified Ideographs Extension A
        (0x4E00, 0x9FFF),   // CJK Unified Ideographs
        (0xA000, 0xA4CF),   // Yi
        (0xA960, 0xA97F),   // Hangul Jamo Extended-A
        (0xAC00, 0xD7A3),   // Hangul syllables
        (0xF900, 0xFAFF),   // CJK compatibility ideographs
        (0xFE10, 0xFE19),   // vertical forms
        (0xFE30, 0xFE6F),   // CJK compatibility forms, small form variants
        (0xFF00, 0xFF60),   // fullwidth ASCII variants
        (0xFFE0, 0xFFE6),   // fullwidth signs
        (0x1F300, 0x1F64F), // pictographs, emoticons
        (0x1F900, 0x1F9FF), // supplemental symbols and pictographs
        (0x20000, 0x2FFFD), // CJK Extensions B-F, compatibility supplement
        (0x30000, 0x3FFFD), // CJK Extensions G-H
    ];
    let within = |table: &[(u32, u32)]| table.iter().any(|(lo, hi)| (*lo..=*hi).contains(&u));
    if within(ZERO) {
        0
    } else if within(WIDE) {
        2
    } else {
        1
    }
}

/// Terminal columns of a string.
pub fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// `s` padded with spaces on the right to `columns` display columns (never cut).
pub fn pad(s: &str, columns: usize) -> String {
    let w = width(s);
    format!("{s}{}", " ".repeat(columns.saturating_sub(w)))
}

/// Rows of cells joined into lines, each column as wide as its widest cell, two spaces apart;
/// the last column is not padded.
pub fn table(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| width(c))
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|r| {
            let last = r.len().saturating_sub(1);
            r.iter()
                .enumerate()
                .map(|(i, c)| {
                    if i == last {
                        c.clone()
                    } else {
                        pad(c, widths[i])
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// UTC instants shown in the branch's time zone.
pub struct LocalTime {
    branch: Branch,
}

impl LocalTime {
    pub fn new(branch: Branch) -> Self {
        LocalTime { branch }
    }
    /// `YYYY-MM-DD HH:MM` in the branch's zone (like the printed forms).
    pub fn minutes(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.branch.tz())
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }
    /// `YYYY-MM-DD HH:MM:SS` in the branch's zone.
    pub fn seconds(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.branch.tz())
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }
    /// The zone's IANA name, e.g. `Asia/Shanghai`.
    pub fn zone(&self) -> &str {
        &self.branch.time_zone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_and_fullwidth_are_two_columns() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("张伟"), 4);
        assert_eq!(width("测试甲"), 6);
        assert_eq!(width("１２３"), 6, "full-width digits");
        assert_eq!(width("。，"), 4, "CJK punctuation");
        assert_eq!(width("カタカナ"), 8);
        assert_eq!(width("한국"), 4);
        assert_eq!(width("𠀀"), 2, "Extension B");
        assert_eq!(width("阿卜杜·热合曼"), 13, "the middle dot is narrow");
        assert_eq!(width("e\u{301}"), 1, "a combining accent takes no column");
        assert_eq!(width("ｱ"), 1, "half-width katakana stays narrow");
    }

    #[test]
    fn padding_and_tables_count_columns() {
        assert_eq!(pad("张伟", 6), "张伟  ");
        assert_eq!(pad("toolong", 3), "toolong");
        let t = table(&[
            vec!["A".into(), "张伟".into(), "x".into()],
            vec!["B".into(), "Li Na".into(), "y".into()],
            vec!["C".into(), "欧阳娜娜".into(), "z".into()],
        ]);
        let cols: Vec<usize> = t
            .lines()
            .map(|l| width(&l[..l.rfind(' ').unwrap()]))
            .collect();
        assert_eq!(cols, [12, 12, 12], "{t}");
    }
}
