//! The faces used on printed forms, parsed once per process.
//!
//! Primary: Noto Sans SC static TTF Regular and Bold, compiled into the binary from
//! `assets/fonts/` (SIL OFL 1.1), so printing never depends on what the system has.
//! Fallback: Noto Sans CJK (Debian `fonts-noto-cjk`), found through fontconfig and parsed
//! only when a character is missing from Noto Sans SC (Extension B characters such as 𠮷).

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
    Regular,
    Bold,
    Fallback,
}

pub(crate) struct FontSet {
    pub regular: ParsedFont,
    pub bold: ParsedFont,
    fallback: OnceLock<Option<ParsedFont>>,
}

static FONTS: OnceLock<Result<FontSet, String>> = OnceLock::new();

/// The process-wide font set; the first call parses the two shipped faces (≈ tens of ms).
pub(crate) fn fonts() -> CoreResult<&'static FontSet> {
    FONTS
        .get_or_init(|| {
            let mut warnings = Vec::new();
            let regular = ParsedFont::from_bytes(REGULAR_TTF, 0, &mut warnings)
                .ok_or_else(|| format!("cannot parse NotoSansSC_400Regular.ttf: {warnings:?}"))?;
            let bold = ParsedFont::from_bytes(BOLD_TTF, 0, &mut warnings)
                .ok_or_else(|| format!("cannot parse NotoSansSC_700Bold.ttf: {warnings:?}"))?;
            Ok(FontSet {
                regular,
                bold,
                fallback: OnceLock::new(),
            })
        })
        .as_ref()
        .map_err(|e| CoreError::new(ErrorCode::Render, e.clone()))
}

fn has_glyph(font: &ParsedFont, c: char) -> bool {
    matches!(font.lookup_glyph_index(c as u32), Some(g) if g != 0)
}

impl FontSet {
    pub fn font(&self, face: Face) -> &ParsedFont {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
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

    /// Pick the face for `c` in the wanted weight, falling back per character.
    /// Errors: code `render`, naming the character and the field.
    pub fn face_for(&self, c: char, bold: bool, field: &str) -> CoreResult<Face> {
        let primary = if bold { Face::Bold } else { Face::Regular };
        if has_glyph(self.font(primary), c) {
            return Ok(primary);
        }
        // Bold Noto Sans SC has the same coverage as Regular, but check anyway.
        if bold && has_glyph(&self.regular, c) {
            return Ok(Face::Regular);
        }
        if let Some(fb) = self.fallback() {
            if has_glyph(fb, c) {
                return Ok(Face::Fallback);
            }
        }
        Err(unprintable(c, field))
    }

    /// Advance width of `c` in points at `size`.
    pub fn advance(&self, face: Face, c: char, size: f32) -> f32 {
        let f = self.font(face);
        let gid = f.lookup_glyph_index(c as u32).unwrap_or(0);
        let upm = f.font_metrics.units_per_em as f32;
        let upm = if upm > 0.0 { upm } else { 1000.0 };
        f.get_horizontal_advance(gid) as f32 / upm * size
    }
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
