//! Name match between the document and the customer. A mismatch is shown to
//! the teller; it is not an error of the number.

use super::DocKind;
use crate::normalize::{fold_width, name_key};

/// Whether the name on the document matches the name entered for the customer.
///
/// - `PassportMrz`: `document_name` is the MRZ name field (`ERIKSSON<<ANNA<MARIA`) or
///   "surname, given names"; `entered_name` is the Latin name typed by the teller. Compared
///   case-, space-, hyphen- and apostrophe-insensitively, surname first or given names first.
///   Accented Latin letters are accepted both as ICAO Doc 9303 Part 3 §6 transliterates them
///   (`Ü` → `UE`) and without the accent (`U`). A name field cut at 39 characters (no trailing
///   `<`) matches any entered name that starts with it.
/// - Every other kind: Chinese names exact after [`name_key`] (width folded, space collapsed,
///   middle dots unified) and with spaces removed when the name holds CJK characters (a space is
///   never part of a Chinese name); Latin names as for passports, or the same words in any
///   order when the document prints the name without a surname marker.
///
/// Empty names never match.
pub fn names_match(kind: DocKind, document_name: &str, entered_name: &str) -> bool {
    if document_name.trim().is_empty() || entered_name.trim().is_empty() {
        return false;
    }
    if kind != DocKind::PassportMrz {
        let (a, b) = (name_key(document_name), name_key(entered_name));
        if a == b {
            return true;
        }
        if has_cjk(&a) || has_cjk(&b) {
            return strip_space(&a) == strip_space(&b);
        }
        // A Latin name printed without structure ("SMITH JOHN"): the same words in any order.
        if latin_words(&a) == latin_words(&b) {
            return true;
        }
    }
    latin_match(document_name, entered_name)
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| {
        matches!(
            c as u32,
            0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F
        )
    })
}

fn latin_words(s: &str) -> Vec<String> {
    let mut words: Vec<String> = s
        .split(|c: char| c.is_whitespace() || matches!(c, '-' | ',' | '<' | '\'' | '.'))
        .filter(|w| !w.is_empty())
        .map(|w| latin_keys(w)[0].clone())
        .collect();
    words.sort();
    words
}

fn strip_space(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Split a document name into (surname, given names): MRZ `SURNAME<<GIVEN<NAMES`, or
/// `SURNAME, GIVEN`, or else the whole as one part.
fn split_document_name(doc: &str) -> (String, String, bool) {
    let folded = fold_width(doc);
    let t = folded.trim();
    if t.contains('<') {
        let truncated = t.chars().count() >= 39 && !t.ends_with('<');
        let (s, g) = t.split_once("<<").unwrap_or((t, ""));
        return (s.to_string(), g.to_string(), truncated);
    }
    if let Some((s, g)) = t.split_once(',') {
        return (s.to_string(), g.to_string(), false);
    }
    (t.to_string(), String::new(), false)
}

/// Letters only, upper-case, in two spellings: ICAO transliteration and accents dropped.
fn latin_keys(s: &str) -> [String; 2] {
    let mut icao = String::with_capacity(s.len());
    let mut plain = String::with_capacity(s.len());
    for c in fold_width(s).chars() {
        if c.is_ascii_alphabetic() {
            icao.push(c.to_ascii_uppercase());
            plain.push(c.to_ascii_uppercase());
            continue;
        }
        let up = c.to_uppercase().next().unwrap_or(c);
        if let Some((t, p)) = transliterate(up) {
            icao.push_str(t);
            plain.push_str(p);
        } else if up.is_alphabetic() || up.is_ascii_digit() {
            // Letters outside the table stay as they are: they then match nothing in an MRZ,
            // which is right (the teller must type the Latin name).
            icao.push(up);
            plain.push(up);
        }
        // Spaces, hyphens, apostrophes, `<`, commas, dots: separators, ignored.
    }
    [icao, plain]
}

/// Doc 9303 Part 3 §6 (Table of transliteration of Latin-1 letters) → (ICAO, accent dropped).
fn transliterate(c: char) -> Option<(&'static str, &'static str)> {
    Some(match c {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ā' | 'Ă' | 'Ą' => ("A", "A"),
        'Ä' => ("AE", "A"),
        'Å' => ("AA", "A"),
        'Æ' => ("AE", "AE"),
        'Ç' | 'Ć' | 'Č' => ("C", "C"),
        'Ð' | 'Đ' | 'Ď' => ("D", "D"),
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ę' | 'Ě' => ("E", "E"),
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' => ("I", "I"),
        'Ñ' | 'Ń' | 'Ň' => ("N", "N"),
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ō' | 'Ő' => ("O", "O"),
        'Ö' | 'Ø' => ("OE", "O"),
        'Œ' => ("OE", "OE"),
        'Ù' | 'Ú' | 'Û' | 'Ū' | 'Ů' | 'Ű' => ("U", "U"),
        'Ü' => ("UE", "U"),
        'Ý' | 'Ÿ' => ("Y", "Y"),
        'Þ' => ("TH", "TH"),
        'ß' => ("SS", "SS"),
        'Ł' => ("L", "L"),
        'Ř' => ("R", "R"),
        'Ś' | 'Š' => ("S", "S"),
        'Ť' => ("T", "T"),
        'Ź' | 'Ż' | 'Ž' => ("Z", "Z"),
        _ => return None,
    })
}

fn latin_match(document_name: &str, entered_name: &str) -> bool {
    let (surname, given, truncated) = split_document_name(document_name);
    let [sur_icao, sur_plain] = latin_keys(&surname);
    let [giv_icao, giv_plain] = latin_keys(&given);
    if sur_icao.is_empty() && giv_icao.is_empty() {
        return false;
    }
    let candidates = [
        format!("{sur_icao}{giv_icao}"),
        format!("{giv_icao}{sur_icao}"),
        format!("{sur_plain}{giv_plain}"),
        format!("{giv_plain}{sur_plain}"),
    ];
    latin_keys(entered_name).iter().any(|entered| {
        !entered.is_empty()
            && candidates.iter().any(|doc| {
                doc == entered
                    // A cut MRZ name only ever cuts the end, so only surname-first applies.
                    || (truncated && entered.starts_with(candidates[0].as_str()))
            })
    })
}
