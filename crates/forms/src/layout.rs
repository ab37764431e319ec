//! A small page-layout layer over printpdf 0.12: measured text, line wrapping, table rows,
//! pagination. Coordinates are points from the page's TOP-left (converted when emitted).

use printpdf::{
    Codepoint, Color, FontId, Greyscale, Line, LinePoint, Op, PaintMode, PdfDocument,
    PdfFontHandle, Point, Pt, Rect, TextItem, TextMatrix,
};
use unlockdesk_core::CoreResult;

use crate::fonts::{Face, FontSet};

pub(crate) const PAGE_W: f32 = 595.28;
pub(crate) const PAGE_H: f32 = 841.89;
pub(crate) const MARGIN_X: f32 = 40.0;
pub(crate) const MARGIN_TOP: f32 = 36.0;
/// Content stops here; the footer sits below.
pub(crate) const CONTENT_BOTTOM: f32 = PAGE_H - 48.0;
pub(crate) const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;

/// Text appearance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub size: f32,
    pub bold: bool,
    /// 0 = black, 1 = white.
    pub grey: f32,
    /// Line spacing as a multiple of the size.
    pub spacing: f32,
}

impl Style {
    pub const fn new(size: f32) -> Self {
        Style {
            size,
            bold: false,
            grey: 0.0,
            spacing: 1.32,
        }
    }
    pub const fn bold(mut self) -> Self {
        self.bold = true;
        self
    }
    /// Tighter line spacing, for stacked labels.
    pub const fn tight(mut self) -> Self {
        self.spacing = 1.18;
        self
    }
    pub const fn grey(mut self, g: f32) -> Self {
        self.grey = g;
        self
    }
    /// Distance between baselines of wrapped lines.
    pub fn line_h(&self) -> f32 {
        self.size * self.spacing
    }
}

/// Characters that must not start a line (CJK closing punctuation and Latin closers):
/// they stick to the token before them.
fn no_break_before(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '；'
            | '：'
            | '！'
            | '？'
            | '）'
            | '」'
            | '』'
            | '》'
            | '〉'
            | '】'
            | '”'
            | '’'
            | ','
            | '.'
            | ';'
            | ':'
            | '!'
            | '?'
            | ')'
            | ']'
            | '%'
            | '·'
    )
}

/// CJK and other wide characters: a line may break before and after each one.
fn breaks_around(c: char) -> bool {
    let u = c as u32;
    (0x2E80..=0x9FFF).contains(&u)
        || (0xAC00..=0xD7AF).contains(&u)
        || (0xF900..=0xFAFF).contains(&u)
        || (0xFE30..=0xFE4F).contains(&u)
        || (0xFF00..=0xFFEF).contains(&u)
        || (0x20000..=0x3FFFF).contains(&u)
}

/// Split into break-free tokens: whitespace, single CJK characters, Latin words; closing
/// punctuation sticks to the token before it.
fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_whitespace() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            out.push(c.to_string());
        } else if no_break_before(c) {
            if !word.is_empty() {
                word.push(c);
            } else if let Some(last) = out
                .last_mut()
                .filter(|l| !l.chars().all(char::is_whitespace))
            {
                last.push(c);
            } else {
                word.push(c);
            }
        } else if breaks_around(c) {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            out.push(c.to_string());
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// One page's drawing operations.
pub(crate) struct Page {
    pub ops: Vec<Op>,
}

/// Builds the pages of one document.
pub(crate) struct Canvas<'f> {
    pub fonts: &'f FontSet,
    pub doc: PdfDocument,
    regular_id: FontId,
    bold_id: FontId,
    /// Full Regular, full Bold, system fallback: added on first use.
    extra_ids: [Option<FontId>; 3],
    pub pages: Vec<Page>,
    /// Next free y (from the top) on the current page.
    pub y: f32,
}

impl<'f> Canvas<'f> {
    pub fn new(fonts: &'f FontSet, title: &str) -> Self {
        let mut doc = PdfDocument::new(title);
        let regular_id = doc.add_font(&fonts.regular);
        let bold_id = doc.add_font(&fonts.bold);
        Canvas {
            fonts,
            doc,
            regular_id,
            bold_id,
            extra_ids: [None, None, None],
            pages: Vec::new(),
            y: MARGIN_TOP,
        }
    }

    pub fn new_page(&mut self) {
        self.pages.push(Page { ops: Vec::new() });
        self.y = MARGIN_TOP;
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        &mut self.pages.last_mut().expect("a page exists").ops
    }

    fn font_id(&mut self, face: Face) -> FontId {
        match face {
            Face::Regular => self.regular_id.clone(),
            Face::Bold => self.bold_id.clone(),
            // Rarely needed faces join the document only when a character uses them.
            other => {
                let slot = match other {
                    Face::RegularFull => 0,
                    Face::BoldFull => 1,
                    _ => 2,
                };
                if let Some(id) = &self.extra_ids[slot] {
                    return id.clone();
                }
                let id = self.doc.add_font(self.fonts.font(other));
                self.extra_ids[slot] = Some(id.clone());
                id
            }
        }
    }

    /// Width of `text` in points; errors name an unprintable character and its field.
    pub fn measure(&self, text: &str, st: Style, field: &str) -> CoreResult<f32> {
        let mut w = 0.0;
        for c in text.chars() {
            w += self.fonts.glyph(printable(c), st.bold, field)?.advance_em;
        }
        Ok(w * st.size)
    }

    /// Wrap `text` into lines no wider than `width`: CJK breaks between characters, Latin at
    /// spaces (a word longer than the line breaks between letters); `\n` forces a break.
    pub fn wrap(&self, text: &str, width: f32, st: Style, field: &str) -> CoreResult<Vec<String>> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut cur = String::new();
            let mut cur_w = 0.0f32;
            for tok in tokens(para) {
                let tok = tok.as_str();
                let is_space = tok.chars().all(char::is_whitespace);
                let w = self.measure(tok, st, field)?;
                if is_space {
                    if !cur.is_empty() {
                        cur.push(' ');
                        cur_w += self.measure(" ", st, field)?;
                    }
                    continue;
                }
                if cur_w + w <= width + 0.01 {
                    cur.push_str(tok);
                    cur_w += w;
                    continue;
                }
                let trimmed = cur.trim_end().to_string();
                if !trimmed.is_empty() {
                    lines.push(trimmed);
                }
                cur.clear();
                cur_w = 0.0;
                if w <= width + 0.01 {
                    cur.push_str(tok);
                    cur_w = w;
                } else {
                    // Break an over-long word between characters.
                    for c in tok.chars() {
                        let cw = self.measure(&c.to_string(), st, field)?;
                        if cur_w + cw > width + 0.01 && !cur.is_empty() {
                            lines.push(std::mem::take(&mut cur));
                            cur_w = 0.0;
                        }
                        cur.push(c);
                        cur_w += cw;
                    }
                }
            }
            let trimmed = cur.trim_end().to_string();
            if !trimmed.is_empty() || lines.is_empty() || para.is_empty() {
                lines.push(trimmed);
            }
        }
        // A trailing empty line from "text\n" adds nothing.
        while lines.len() > 1 && lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        Ok(lines)
    }

    /// Draw one line of text with its top edge at `top` (from the page top), left edge `x`.
    /// Returns the drawn width.
    pub fn text(
        &mut self,
        x: f32,
        top: f32,
        text: &str,
        st: Style,
        field: &str,
    ) -> CoreResult<f32> {
        if text.is_empty() {
            return Ok(0.0);
        }
        // Runs of characters sharing one face.
        // Glyph ids go to printpdf directly (with the character for /ToUnicode), so it does
        // not look every character up again.
        let mut runs: Vec<(Face, Vec<Codepoint>, f32)> = Vec::new();
        let mut total = 0.0;
        for c in text.chars() {
            let c = printable(c);
            let g = self.fonts.glyph(c, st.bold, field)?;
            let adv = g.advance_em * st.size;
            let cp = Codepoint::with_cid(g.gid, 0.0, c.to_string());
            match runs.last_mut() {
                Some((f, s, w)) if *f == g.face => {
                    s.push(cp);
                    *w += adv;
                }
                _ => runs.push((g.face, vec![cp], adv)),
            }
            total += adv;
        }
        let baseline = PAGE_H - (top + st.size * 0.92);
        let mut ops = vec![
            Op::SetFillColor { col: grey(st.grey) },
            Op::StartTextSection,
        ];
        let mut cx = x;
        for (face, s, w) in runs {
            let id = self.font_id(face);
            ops.push(Op::SetFont {
                font: PdfFontHandle::External(id),
                size: Pt(st.size),
            });
            ops.push(Op::SetTextMatrix {
                matrix: TextMatrix::Translate(Pt(cx), Pt(baseline)),
            });
            ops.push(Op::ShowText {
                items: vec![TextItem::GlyphIds(s)],
            });
            cx += w;
        }
        ops.push(Op::EndTextSection);
        self.ops().extend(ops);
        Ok(total)
    }

    /// Draw wrapped lines starting at `top`; returns the height used.
    pub fn lines(
        &mut self,
        x: f32,
        top: f32,
        lines: &[String],
        st: Style,
        field: &str,
    ) -> CoreResult<f32> {
        let mut t = top;
        for l in lines {
            self.text(x, t, l, st, field)?;
            t += st.line_h();
        }
        Ok(lines.len() as f32 * st.line_h())
    }

    /// Height `lines` of style `st` take.
    pub fn lines_h(lines: &[String], st: Style) -> f32 {
        lines.len() as f32 * st.line_h()
    }

    /// Filled rectangle (top-left origin).
    pub fn fill_rect(&mut self, x: f32, top: f32, w: f32, h: f32, g: f32) {
        let ops = self.ops();
        ops.push(Op::SetFillColor { col: grey(g) });
        ops.push(Op::DrawRectangle {
            rectangle: rect(x, top, w, h, PaintMode::Fill),
        });
    }

    /// Outlined rectangle (top-left origin).
    pub fn stroke_rect(&mut self, x: f32, top: f32, w: f32, h: f32, thickness: f32, g: f32) {
        let ops = self.ops();
        ops.push(Op::SetOutlineColor { col: grey(g) });
        ops.push(Op::SetOutlineThickness { pt: Pt(thickness) });
        ops.push(Op::DrawRectangle {
            rectangle: rect(x, top, w, h, PaintMode::Stroke),
        });
    }

    /// Straight line between two points (top-left origin).
    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, thickness: f32, g: f32) {
        let ops = self.ops();
        ops.push(Op::SetOutlineColor { col: grey(g) });
        ops.push(Op::SetOutlineThickness { pt: Pt(thickness) });
        ops.push(Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint {
                        p: Point {
                            x: Pt(x1),
                            y: Pt(PAGE_H - y1),
                        },
                        bezier: false,
                    },
                    LinePoint {
                        p: Point {
                            x: Pt(x2),
                            y: Pt(PAGE_H - y2),
                        },
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        });
    }

    /// A checkbox of side `s` at (x, top), ticked with two strokes when `checked`.
    pub fn checkbox(&mut self, x: f32, top: f32, s: f32, checked: bool) {
        self.stroke_rect(x, top, s, s, 0.8, 0.0);
        if checked {
            self.line(
                x + s * 0.18,
                top + s * 0.52,
                x + s * 0.42,
                top + s * 0.78,
                1.3,
                0.0,
            );
            self.line(
                x + s * 0.42,
                top + s * 0.78,
                x + s * 0.84,
                top + s * 0.2,
                1.3,
                0.0,
            );
        }
    }

    /// QR code of `payload`, `size` points square, quiet zone included, at (x, top).
    pub fn qr(&mut self, x: f32, top: f32, size: f32, payload: &str) -> CoreResult<()> {
        let code =
            qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)
                .map_err(|e| {
                    unlockdesk_core::CoreError::new(
                        unlockdesk_core::ErrorCode::Render,
                        format!("QR code: {e}"),
                    )
                })?;
        let n = code.width();
        let quiet = 2usize;
        let module = size / (n + 2 * quiet) as f32;
        let colors = code.to_colors();
        let ops = self.ops();
        ops.push(Op::SetFillColor { col: grey(0.0) });
        for row in 0..n {
            // One rectangle per horizontal run of dark modules keeps the stream small.
            let mut col = 0;
            while col < n {
                if colors[row * n + col] == qrcode::Color::Dark {
                    let start = col;
                    while col < n && colors[row * n + col] == qrcode::Color::Dark {
                        col += 1;
                    }
                    let rx = x + (quiet + start) as f32 * module;
                    let ry = top + (quiet + row) as f32 * module;
                    // A hair of overlap avoids white seams between rows in some viewers.
                    ops.push(Op::DrawRectangle {
                        rectangle: rect(
                            rx,
                            ry,
                            (col - start) as f32 * module,
                            module + 0.05,
                            PaintMode::Fill,
                        ),
                    });
                } else {
                    col += 1;
                }
            }
        }
        Ok(())
    }
}

/// Tabs and other control characters print as spaces (they have no glyph).
fn printable(c: char) -> char {
    if c.is_control() {
        ' '
    } else {
        c
    }
}

fn grey(g: f32) -> Color {
    Color::Greyscale(Greyscale::new(g, None))
}

fn rect(x: f32, top: f32, w: f32, h: f32, mode: PaintMode) -> Rect {
    Rect {
        x: Pt(x),
        y: Pt(PAGE_H - top - h),
        width: Pt(w),
        height: Pt(h),
        mode: Some(mode),
        winding_order: None,
    }
}

#[cfg(test)]
mod tests {
    use super::tokens;

    #[test]
    fn tokens_split_cjk_and_words() {
        assert_eq!(
            tokens("张三 ZHANG San"),
            vec!["张", "三", " ", "ZHANG", " ", "San"]
        );
        assert_eq!(tokens("你好，世界。"), vec!["你", "好，", "世", "界。"]);
        assert_eq!(tokens("abc中文def"), vec!["abc", "中", "文", "def"]);
        assert_eq!(tokens("word, next"), vec!["word,", " ", "next"]);
    }
}
