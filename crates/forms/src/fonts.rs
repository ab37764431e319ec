//! The faces used on printed forms, parsed once per process.
//!
//! Primary: Noto Sans SC static TTF Regular and Bold, compiled into the binary from
//! `assets/fonts/` (SIL OFL 1.1), so printing never depends on what the system has.
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
    pub regular_full: ParsedFont,
    pub bold_full: ParsedFont,
    fallback: OnceLock<Option<ParsedFont>>,
    /// Pre-resolved glyphs of the common set, regular and bold: cmap lookups in the reduced
    /// faces are slow (format-4 scans), and every character is looked up twice per render.
    common_regular: HashMap<char, Glyph>,
    common_bold: HashMap<char, Glyph>,
}

/// A resolved character: the face that draws it, its glyph id there, its advance in em.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Glyph {
    pub face: Face,
    pub gid: u16,
    pub advance_em: f32,
}

static FONTS: OnceLock<Result<FontSet, String>> = OnceLock::new();

/// The process-wide font set; the first call parses the two shipped faces and
/// builds their reduced forms (a few hundred ms, once).
pub(crate) fn fonts() -> CoreResult<&'static FontSet> {
    FONTS
        .get_or_init(|| {
            let mut warnings = Vec::new();
            let regular = ParsedFont::from_bytes(REGULAR_TTF, 0, &mut warnings)
                .ok_or_else(|| format!("cannot parse NotoSansSC_400Regular.ttf: {warnings:?}"))?;
            let bold = ParsedFont::from_bytes(BOLD_TTF, 0, &mut warnings)
                .ok_or_else(|| format!("cannot parse NotoSansSC_700Bold.ttf: {warnings:?}"))?;
            let regular_small = reduce(&regular)?;
            let bold_small = reduce(&bold)?;
            let mut set = FontSet {
                regular: regular_small,
                bold: bold_small,
                regular_full: regular,
                bold_full: bold,
                fallback: OnceLock::new(),
                common_regular: HashMap::new(),
                common_bold: HashMap::new(),
            };
            let chars = common_chars();
            let mut common_regular = HashMap::with_capacity(chars.len());
            let mut common_bold = HashMap::with_capacity(chars.len());
            for &c in &chars {
                if let Some(g) = set.resolve(c, false) {
                    common_regular.insert(c, g);
                }
                if let Some(g) = set.resolve(c, true) {
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
            Face::RegularFull => &self.regular_full,
            Face::BoldFull => &self.bold_full,
            // Only reached after `face_for` returned Fallback, which implies it loaded.
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
        self.resolve(c, bold).ok_or_else(|| unprintable(c, field))
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
            if let Some(gid) = font.lookup_glyph_index(c as u32).filter(|g| *g != 0) {
                let upm = font.font_metrics.units_per_em as f32;
                let upm = if upm > 0.0 { upm } else { 1000.0 };
                return Some(Glyph {
                    face,
                    gid,
                    advance_em: font.get_horizontal_advance(gid) as f32 / upm,
                });
            }
        }
        None
    }
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

/// Subset `full` to [`common_chars`] once per process and parse the result.
fn reduce(full: &ParsedFont) -> Result<ParsedFont, String> {
    let mut glyphs = std::collections::BTreeMap::new();
    for c in common_chars() {
        if let Some(gid) = full.lookup_glyph_index(c as u32).filter(|g| *g != 0) {
            glyphs.entry(gid).or_insert_with(|| c.to_string());
        }
    }
    let subset = printpdf::font::subset_font(full, &glyphs)?;
    let mut warnings = Vec::new();
    let mut small = ParsedFont::from_bytes(&subset.bytes, 0, &mut warnings)
        .ok_or_else(|| format!("cannot parse the reduced font: {warnings:?}"))?;
    // The subset drops the `name` table; keep the PostScript name for /BaseFont.
    small.font_name = full.font_name.clone();
    Ok(small)
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
