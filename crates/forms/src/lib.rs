//! # unlockdesk-forms
//!
//! PDF rendering of the printed documents of UnlockDesk: the A4 application form
//! (数字钱包解锁申请表, one or two pages) and the unlock receipt, from the plain view models
//! of [`unlockdesk_core::print`], with printpdf 0.12.
//!
//! - Fonts: Noto Sans SC Regular/Bold compiled in (SIL OFL 1.1, `assets/fonts/`), parsed once
//!   per process; Noto Sans CJK from the system (fontconfig) as a per-character fallback,
//!   loaded only when needed. Only the glyphs used are embedded (subset, with ToUnicode), so
//!   `pdftotext` extracts the Chinese.
//! - A character no face has is a `render` error naming the character and the field.
//! - Text wraps inside its cell, measured from the font (CJK between characters, Latin at
//!   spaces); rows that do not fit move to a new page with a running header; every page has
//!   a footer with "n / N".
//!
//! ```no_run
//! use unlockdesk_core::print::{PrintDocument, Renderer};
//! # fn demo(doc: PrintDocument) -> unlockdesk_core::CoreResult<()> {
//! let renderer = unlockdesk_forms::PdfRenderer::new();
//! let pdf: Vec<u8> = renderer.render(&doc)?;
//! # Ok(()) }
//! ```

mod fonts;
mod layout;
mod templates;

use unlockdesk_core::print::{PrintDocument, Renderer};
use unlockdesk_core::CoreResult;

/// The printpdf implementation of the core [`Renderer`] port. Cheap to construct and share;
/// the fonts are process-wide and parsed on first use (or by [`PdfRenderer::preload`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct PdfRenderer;

impl PdfRenderer {
    pub fn new() -> Self {
        PdfRenderer
    }

    /// Parse the shipped fonts now (≈ 100 ms once per process) so the first print is fast.
    /// Errors: code `render` if a shipped font cannot be parsed.
    pub fn preload(&self) -> CoreResult<()> {
        fonts::fonts().map(|_| ())
    }

    /// Whether a system CJK fallback face (Noto Sans CJK) was found; loads it if not yet loaded.
    pub fn has_fallback_font(&self) -> bool {
        fonts::fonts()
            .map(|f| f.fallback().is_some())
            .unwrap_or(false)
    }
}

impl Renderer for PdfRenderer {
    /// Render the document to PDF bytes (A4, fonts subset and embedded). At most
    /// [`MAX_CONCURRENT_RENDERS`] renders run at once per process; more wait their turn.
    fn render(&self, doc: &PrintDocument) -> CoreResult<Vec<u8>> {
        let fonts = fonts::fonts()?;
        let _turn = RenderTurn::take();
        templates::render(fonts, doc)
    }
}

/// Renders at once in one process. Why: each render subsets its faces, which holds ~26 MiB
/// for its ~10 ms (the subsetter boxes the face's tables and parses the subset); a branch
/// server answering many counters at once would otherwise hold that per request in flight,
/// and the allocator keeps the peak. At a branch's peak (about 25 prints/s) one render at a
/// time is busy a quarter of the time, so the wait is short (the server bench's figures).
pub const MAX_CONCURRENT_RENDERS: usize = 2;

static RENDERING: std::sync::Mutex<usize> = std::sync::Mutex::new(0);
static RENDER_DONE: std::sync::Condvar = std::sync::Condvar::new();

/// A render's place among [`MAX_CONCURRENT_RENDERS`]; given back on drop (also on a panic).
struct RenderTurn;

impl RenderTurn {
    fn take() -> Self {
        let mut n = RENDERING.lock().unwrap_or_else(|p| p.into_inner());
        while *n >= MAX_CONCURRENT_RENDERS {
            n = RENDER_DONE.wait(n).unwrap_or_else(|p| p.into_inner());
        }
        *n += 1;
        RenderTurn
    }
}

impl Drop for RenderTurn {
    fn drop(&mut self) {
        let mut n = RENDERING.lock().unwrap_or_else(|p| p.into_inner());
        *n = n.saturating_sub(1);
        RENDER_DONE.notify_one();
    }
}

/// Render with the shared renderer: same as `PdfRenderer::new().render(doc)`.
pub fn render(doc: &PrintDocument) -> CoreResult<Vec<u8>> {
    PdfRenderer.render(doc)
}
