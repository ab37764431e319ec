//! The faces used on printed forms, parsed once per process.
//!
//! Primary: Noto Sans SC static TTF Regular and Bold, compiled into the binary from
//! `assets/fonts/` (SIL OFL 1.1), so printing never depends on what the system has, in two
//! forms: reduced to the common set ([`common_chars`], `assets/fonts/reduced/`, made from the
//! complete faces by [`reduce`] and checked against it by a test) and complete.
//! Only the reduced faces are parsed at start: the complete ones (10 MiB each) are read and
//! parsed on the first character outside the common set, so a process that never prints one
//! neither holds them parsed (~36 MiB) nor has their pages of the binary resident.
//! Fallback: Noto Sans CJK (Debian `fonts-noto-cjk`), found through fontconfig and parsed
//! only when a character is missing from Noto Sans SC (Extension B characters such as 𠮷).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use printpdf::ParsedFont;
use unlockdesk_core::{CoreError, CoreResult, ErrorCode, FieldError};

static REGULAR_TTF: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC_400Regular.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC_700Bold.ttf");
static REGULAR_COMMON_TTF: &[u8] =
    include_bytes!("../../../assets/fonts/reduced/NotoSansSC_400Regular.common.ttf");
static BOLD_COMMON_TTF: &[u8] =
    include_bytes!("../../../assets/fonts/reduced/NotoSansSC_700Bold.common.ttf");
/// PostScript names for /BaseFont: the subset drops the `name` table (a test checks these
/// against the complete faces).
const REGULAR_NAME: &str = "NotoSansSC-Regular";
const BOLD_NAME: &str = "NotoSansSC-Bold";

/// Which face draws a character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Face {
    /// Noto Sans SC Regular reduced to the common set (see [`common_chars`]).
    Regular,
    /// Noto Sans SC Bold reduced to the common set.
    Bold,
    /// The complete Noto Sans SC Regular (rare characters).
    RegularFull,
    /// The complete Noto Sans SC Bold.
    BoldFull,
    /// The system's Noto Sans CJK.
    Fallback,
}

pub(crate) struct FontSet {
    /// Reduced faces: printpdf's per-document subsetting walks every glyph and cmap entry of
    /// the font it subsets, so subsetting from a ~7,700-glyph face instead of the full
    /// ~30,000-glyph one is what keeps a render within a few milliseconds.
    pub regular: ParsedFont,
    pub bold: ParsedFont,
    /// The complete faces, parsed on the first character outside the common set and kept
    /// from then on. Why lazily: parsed, the two complete faces take ~36 MiB, four fifths of
    /// all font memory, and most branches never print a character outside GB 2312.
    regular_full: OnceLock<Option<ParsedFont>>,
    bold_full: OnceLock<Option<ParsedFont>>,
    fallback: OnceLock<Option<ParsedFont>>,
    /// Pre-resolved glyphs of the common set, regular and bold: cmap lookups in the reduced
    /// faces are slow (format-4 scans), and every character is looked up twice per render.
    common_regular: HashMap<char, Glyph>,
    common_bold: HashMap<char, Glyph>,
    /// Characters outside the reduced faces resolved so far (with their weight): the chain's
    /// lookups are slow, and a branch's rarer characters (a symbol on every form, a name
    /// printed twice) recur.
    resolved: std::sync::Mutex<HashMap<(char, bool), Glyph>>,
}

/// A resolved character: the face that draws it, its glyph id there, its advance in em.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Glyph {
    pub face: Face,
    pub gid: u16,
    pub advance_em: f32,
}

static FONTS: OnceLock<Result<FontSet, String>> = OnceLock::new();

/// The process-wide font set; the first call parses the two shipped reduced faces and looks
/// up the common set in them (tens of ms, once). The complete faces and the fallback are
/// parsed later, on the first character that needs them.
pub(crate) fn fonts() -> CoreResult<&'static FontSet> {
    FONTS
        .get_or_init(|| {
            let regular_small = parse_reduced(REGULAR_COMMON_TTF, REGULAR_NAME)?;
            let bold_small = parse_reduced(BOLD_COMMON_TTF, BOLD_NAME)?;
            let mut set = FontSet {
                regular: regular_small,
                bold: bold_small,
                regular_full: OnceLock::new(),
                bold_full: OnceLock::new(),
                fallback: OnceLock::new(),
                common_regular: HashMap::new(),
                common_bold: HashMap::new(),
                resolved: std::sync::Mutex::new(HashMap::new()),
            };
            let chars = common_chars();
            let mut common_regular = HashMap::with_capacity(chars.len());
            let mut common_bold = HashMap::with_capacity(chars.len());
            // Only what the reduced faces draw: resolving the rest here would parse the
            // complete faces and load the system fallback (~60 MiB) in every process, for
            // characters (a few symbols of the common ranges) that most branches never print.
            for &c in &chars {
                if let Some(g) = in_face(&set.regular, Face::Regular, c) {
                    common_regular.insert(c, g);
                }
                if let Some(g) = in_face(&set.bold, Face::Bold, c) {
                    common_bold.insert(c, g);
                }
            }
            set.common_regular = common_regular;
            set.common_bold = common_bold;
            Ok(set)
        })
        .as_ref()
        .map_err(|e| CoreError::new(ErrorCode::Render, e.clone()))
}

impl FontSet {
    pub fn font(&self, face: Face) -> &ParsedFont {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
            Face::RegularFull => full(&self.regular_full, REGULAR_TTF, &self.regular),
            Face::BoldFull => full(&self.bold_full, BOLD_TTF, &self.bold),
            // Only reached for a glyph `resolve` found in the fallback, so it is loaded.
            Face::Fallback => self
                .fallback
                .get()
                .and_then(|f| f.as_ref())
                .unwrap_or(&self.regular),
        }
    }

    /// The fallback face, loading it on first use; `None` when the system has none.
    pub fn fallback(&self) -> Option<&ParsedFont> {
        self.fallback.get_or_init(load_fallback).as_ref()
    }

    /// Resolve `c` in the wanted weight, falling back per character through the chain
    /// reduced face → full face → (bold only) full regular → system Noto Sans CJK.
    /// Errors: code `render`, naming the character and the field.
    pub fn glyph(&self, c: char, bold: bool, field: &str) -> CoreResult<Glyph> {
        let common = if bold {
            &self.common_bold
        } else {
            &self.common_regular
        };
        if let Some(g) = common.get(&c) {
            return Ok(*g);
        }
        let cached = self
            .resolved
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(c, bold))
            .copied();
        if let Some(g) = cached {
            return Ok(g);
        }
        // Only characters found are kept: what is kept stays bounded by the fonts' coverage,
        // not by what tellers may type.
        let g = self.resolve(c, bold).ok_or_else(|| unprintable(c, field))?;
        self.resolved
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((c, bold), g);
        Ok(g)
    }

    fn resolve(&self, c: char, bold: bool) -> Option<Glyph> {
        let chain: &[Face] = if bold {
            &[
                Face::Bold,
                Face::BoldFull,
                Face::RegularFull,
                Face::Fallback,
            ]
        } else {
            &[Face::Regular, Face::RegularFull, Face::Fallback]
        };
        for &face in chain {
            let font = if face == Face::Fallback {
                self.fallback()?
            } else {
                self.font(face)
            };
            if let Some(g) = in_face(font, face, c) {
                return Some(g);
            }
        }
        None
    }
}

/// `c` in one face: its glyph id and advance, or `None` when the face has no glyph for it.
fn in_face(font: &ParsedFont, face: Face, c: char) -> Option<Glyph> {
    let gid = font.lookup_glyph_index(c as u32).filter(|g| *g != 0)?;
    let upm = font.font_metrics.units_per_em as f32;
    let upm = if upm > 0.0 { upm } else { 1000.0 };
    Some(Glyph {
        face,
        gid,
        advance_em: font.get_horizontal_advance(gid) as f32 / upm,
    })
}

/// A complete shipped face, parsed on first use and kept. The bytes are compiled in and the
/// test `the_reduced_faces_hold_the_common_set` parses them, so this does not fail in a build
/// whose tests passed; if it did, the reduced face stands in and its lookups of the missing
/// character find nothing, so the caller reports the character as unprintable (code `render`)
/// instead of panicking.
fn full<'a>(
    cell: &'a OnceLock<Option<ParsedFont>>,
    ttf: &'static [u8],
    reduced: &'a ParsedFont,
) -> &'a ParsedFont {
    cell.get_or_init(|| ParsedFont::from_bytes(ttf, 0, &mut Vec::new()))
        .as_ref()
        .unwrap_or(reduced)
}

/// The characters of the reduced faces: ASCII, Latin-1, general punctuation, CJK symbols,
/// full-width forms and every character of GB 2312 (which covers everyday names and addresses).
fn common_chars() -> Vec<char> {
    let mut out: Vec<char> = Vec::with_capacity(8000);
    let ranges = [
        (0x20u32, 0x7E),
        (0xA0, 0x17F),
        (0x2000, 0x206F),
        (0x2100, 0x215F),
        (0x2460, 0x24FF),
        (0x3000, 0x303F),
        (0xFF00, 0xFFEF),
    ];
    for (a, b) in ranges {
        out.extend((a..=b).filter_map(char::from_u32));
    }
    // GB 2312 in EUC-CN: rows 0xA1-0xF7, cells 0xA1-0xFE.
    let mut bytes = Vec::with_capacity(2 * 87 * 94);
    for row in 0xA1u8..=0xF7 {
        for cell in 0xA1u8..=0xFE {
            bytes.push(row);
            bytes.push(cell);
        }
    }
    let (text, _, _) = encoding_rs::GBK.decode(&bytes);
    out.extend(text.chars().filter(|c| *c != '\u{FFFD}'));
    out.sort_unstable();
    out.dedup();
    out
}

/// A shipped reduced face, parsed, with its PostScript name put back.
fn parse_reduced(ttf: &[u8], name: &str) -> Result<ParsedFont, String> {
    let mut warnings = Vec::new();
    let mut small = ParsedFont::from_bytes(ttf, 0, &mut warnings)
        .ok_or_else(|| format!("cannot parse the reduced face {name}: {warnings:?}"))?;
    small.font_name = Some(name.to_string());
    Ok(small)
}

/// The reduced face's bytes: `full` subset to [`common_chars`] (deterministic: same input,
/// same bytes). What `assets/fonts/reduced/` holds; the test `reduced_faces_are_current`
/// compares, and `UNLOCKDESK_WRITE_REDUCED_FONTS=1 cargo test -p unlockdesk-forms --lib
/// reduced_faces_are_current` rewrites them after a change of the faces or of the set.
#[cfg(test)]
fn reduce(full: &ParsedFont) -> Result<Vec<u8>, String> {
    let mut glyphs = std::collections::BTreeMap::new();
    for c in common_chars() {
        if let Some(gid) = full.lookup_glyph_index(c as u32).filter(|g| *g != 0) {
            glyphs.entry(gid).or_insert_with(|| c.to_string());
        }
    }
    Ok(printpdf::font::subset_font(full, &glyphs)?.bytes)
}

fn unprintable(c: char, field: &str) -> CoreError {
    let message = format!(
        "character '{c}' (U+{:04X}) in field '{field}' is in no available font \
         (Noto Sans SC, Noto Sans CJK): correct the text or install fonts-noto-cjk",
        c as u32
    );
    let mut e = CoreError::new(ErrorCode::Render, message.clone());
    e.fields
        .push(FieldError::new(field, "unprintable-character", message));
    e
}

/// Where the fallback face lives: `UNLOCKDESK_CJK_FALLBACK=path[:index]`, else fontconfig's
/// match for "Noto Sans CJK SC", else Debian's usual path.
fn fallback_location() -> Option<(PathBuf, usize)> {
    if let Ok(v) = std::env::var("UNLOCKDESK_CJK_FALLBACK") {
        if v.is_empty() || v == "none" {
            return None;
        }
        let (p, i) = match v.rsplit_once(':') {
            Some((p, i)) if i.parse::<usize>().is_ok() => (p.to_string(), i.parse().unwrap_or(0)),
            _ => (v.clone(), 0),
        };
        return Some((PathBuf::from(p), i));
    }
    let fc = Command::new("fc-match")
        .args([
            "--format=%{file}\n%{index}",
            "Noto Sans CJK SC:style=Regular",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            let s = String::from_utf8_lossy(&o.stdout).to_string();
            let mut it = s.lines();
            let file = it.next()?.trim().to_string();
            let index = it.next().and_then(|i| i.trim().parse().ok()).unwrap_or(0);
            // fc-match always answers something; only a Noto CJK face is a real match.
            file.contains("NotoSansCJK")
                .then(|| (PathBuf::from(file), index))
        });
    if fc.is_some() {
        return fc;
    }
    for (p, i) in [
        ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
        ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ] {
        if std::path::Path::new(p).exists() {
            return Some((PathBuf::from(p), i));
        }
    }
    None
}

fn load_fallback() -> Option<ParsedFont> {
    let (path, index) = fallback_location()?;
    let bytes = std::fs::read(&path).ok()?;
    let mut warnings = Vec::new();
    ParsedFont::from_bytes(&bytes, index, &mut warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped reduced faces are exactly the complete faces subset to the common set,
    /// and carry the complete faces' PostScript names.
    #[test]
    fn reduced_faces_are_current() {
        let write = std::env::var("UNLOCKDESK_WRITE_REDUCED_FONTS").as_deref() == Ok("1");
        for (full_ttf, shipped, file, name) in [
            (
                REGULAR_TTF,
                REGULAR_COMMON_TTF,
                "NotoSansSC_400Regular.common.ttf",
                REGULAR_NAME,
            ),
            (
                BOLD_TTF,
                BOLD_COMMON_TTF,
                "NotoSansSC_700Bold.common.ttf",
                BOLD_NAME,
            ),
        ] {
            let full = ParsedFont::from_bytes(full_ttf, 0, &mut Vec::new()).unwrap();
            assert_eq!(full.font_name.as_deref(), Some(name));
            let made = reduce(&full).unwrap();
            if write {
                let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/fonts/reduced");
                std::fs::create_dir_all(dir).unwrap();
                std::fs::write(format!("{dir}/{file}"), &made).unwrap();
            } else {
                assert!(
                    made == shipped,
                    "assets/fonts/reduced/{file} is out of date: run \
                     UNLOCKDESK_WRITE_REDUCED_FONTS=1 cargo test -p unlockdesk-forms --lib \
                     reduced_faces_are_current"
                );
            }
        }
    }

    /// The complete faces parse, and every common character they draw is in the reduced face
    /// of the same weight, with the same advance (so a line measures the same whichever face
    /// drew it).
    #[test]
    fn the_reduced_faces_hold_the_common_set() {
        let set = fonts().unwrap();
        for (full_face, small_face, small) in [
            (Face::RegularFull, Face::Regular, &set.regular),
            (Face::BoldFull, Face::Bold, &set.bold),
        ] {
            let full = set.font(full_face);
            let parsed = match full_face {
                Face::RegularFull => set.regular_full.get(),
                _ => set.bold_full.get(),
            };
            assert!(
                matches!(parsed, Some(Some(_))),
                "{full_face:?} did not parse"
            );
            for c in common_chars() {
                let Some(whole) = in_face(full, full_face, c) else {
                    continue;
                };
                let part = in_face(small, small_face, c)
                    .unwrap_or_else(|| panic!("{c:?} missing from the reduced {small_face:?}"));
                assert!((part.advance_em - whole.advance_em).abs() < 1e-6, "{c:?}");
            }
        }
    }
}
