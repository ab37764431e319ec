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

    /// Parse the shipped reduced faces now (tens of ms, once per process) so the first print
    /// is fast. The complete faces are still parsed on the first character outside the common
    /// set (GB 2312 and the usual symbols), the system fallback on the first that Noto Sans SC
    /// lacks.
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

/// Renders at once in one process; more wait their turn. Why: each render subsets the faces
/// it uses (the subsetter boxes their tables and parses the subset: a few MiB for its ~10 ms),
/// and a branch server answering many counters at once would otherwise hold that for every
/// print in flight, and the allocator keeps the peak. Two keep both cores of a small server
/// busy (the server bench: peak RSS 87 MiB with two). The branch server takes its own permit
/// for a print before it uses a blocking thread, so waiting prints do not hold its threads.
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
