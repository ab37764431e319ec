//! The two printed templates: the application form (业务申请书) and the unlock receipt.
//! Labels and fixed wording live here (Chinese first, English small beneath or after);
//! values come ready-made from `unlockdesk_core::print`.

use printpdf::{PdfSaveOptions, PdfWarnMsg};
use unlockdesk_core::print::{
    ApplicationFormView, CopyKind, DocumentHeader, PrintDocument, ReceiptOutcome, ReceiptView,
};
use unlockdesk_core::{CoreError, CoreResult, ErrorCode};

use crate::fonts::FontSet;
use crate::layout::{
    Canvas, Style, CONTENT_BOTTOM, CONTENT_W, MARGIN_TOP, MARGIN_X, PAGE_H, PAGE_W,
};

const PAD: f32 = 4.0;
const LABEL_ZH: Style = Style::new(7.8).tight();
const LABEL_EN: Style = Style::new(5.8).grey(0.38).tight();
const VALUE: Style = Style::new(9.5);
const BODY_ZH: Style = Style::new(8.6);
const BODY_EN: Style = Style::new(7.0).grey(0.3);
const BORDER: f32 = 0.35;

/// What a table cell holds.
#[derive(Clone, Copy)]
enum Kind {
    /// Label on the left, value on the right.
    Value { min_h: f32 },
    /// Label on top, space to sign, printed name and date line at the bottom.
    Sign { h: f32 },
    /// The "business completed" stamp area.
    Stamp { h: f32 },
}

#[derive(Clone, Copy)]
struct Cell<'a> {
    zh: &'a str,
    en: &'a str,
    value: &'a str,
    /// Field name for errors (`customer_name`, `address`, ...).
    field: &'a str,
    /// Fraction of the content width.
    span: f32,
    kind: Kind,
    /// Sign cells: a pre-printed date (may be empty).
    date: &'a str,
}

fn val<'a>(zh: &'a str, en: &'a str, value: &'a str, field: &'a str, span: f32) -> Cell<'a> {
    Cell {
        zh,
        en,
        value,
        field,
        span,
        kind: Kind::Value { min_h: 20.0 },
        date: "",
    }
}

fn sign<'a>(
    zh: &'a str,
    en: &'a str,
    name: &'a str,
    date: &'a str,
    field: &'a str,
    span: f32,
    h: f32,
) -> Cell<'a> {
    Cell {
        zh,
        en,
        value: name,
        field,
        span,
        kind: Kind::Sign { h },
        date,
    }
}

struct Form<'f> {
    c: Canvas<'f>,
    header: DocumentHeader,
    title_zh: &'static str,
    title_en: &'static str,
}

/// Measured content of a cell, ready to draw.
struct Laid {
    label_zh: Vec<String>,
    label_en: Vec<String>,
    value: Vec<String>,
    label_w: f32,
    h: f32,
}

impl<'f> Form<'f> {
    fn new(
        fonts: &'f FontSet,
        header: &DocumentHeader,
        title_zh: &'static str,
        title_en: &'static str,
    ) -> Self {
        let c = Canvas::new(
            fonts,
            &format!("{title_zh} {title_en} {}", header.case_number),
        );
        Form {
            c,
            header: header.clone(),
            title_zh,
            title_en,
        }
    }

    fn copy_label(&self) -> &'static str {
        match self.header.copy {
            CopyKind::Customer => "客户联 Customer copy",
            CopyKind::Bank => "银行留存联 Bank copy",
        }
    }

    /// First page: copy badge and branch on the left, title centred, QR code on the right.
    fn first_page(&mut self) -> CoreResult<()> {
        self.c.new_page();
        let top = self.c.y;
        let h = self.header.clone();
        // Left block.
        let left_w = 150.0;
        let badge = Style::new(9.0).bold().grey(1.0);
        let bw = self.c.measure(self.copy_label(), badge, "copy")? + 2.0 * PAD;
        self.c.fill_rect(MARGIN_X, top, bw, 15.0, 0.15);
        self.c
            .text(MARGIN_X + PAD, top + 2.6, self.copy_label(), badge, "copy")?;
        let mut ly = top + 19.0;
        if h.masked {
            let note = Style::new(6.5).grey(0.3);
            ly += self
                .c
                .text(
                    MARGIN_X,
                    ly,
                    "证件号、电话、卡号、钱包号已遮蔽 Numbers masked",
                    note,
                    "copy",
                )
                .map(|_| 9.0)?;
        }
        let bst = Style::new(8.0);
        let name_lines = self.c.wrap(&h.branch_name, left_w, bst, "branch_name")?;
        ly += self
            .c
            .lines(MARGIN_X, ly, &name_lines, bst, "branch_name")?;
        let code = format!("网点 Branch {}", h.branch_code);
        let code_lines = self
            .c
            .wrap(&code, left_w, Style::new(7.0).grey(0.3), "branch_code")?;
        ly += self.c.lines(
            MARGIN_X,
            ly,
            &code_lines,
            Style::new(7.0).grey(0.3),
            "branch_code",
        )?;

        // Title, centred between the left block and the QR code.
        let tz = Style::new(18.0).bold();
        let tw = self.c.measure(self.title_zh, tz, "title")?;
        self.c
            .text((PAGE_W - tw) / 2.0, top + 8.0, self.title_zh, tz, "title")?;
        let te = Style::new(10.0).grey(0.25);
        let ew = self.c.measure(self.title_en, te, "title")?;
        self.c
            .text((PAGE_W - ew) / 2.0, top + 33.0, self.title_en, te, "title")?;

        // QR code with the case number under it.
        let qs = 56.0;
        let qx = PAGE_W - MARGIN_X - qs;
        self.c.qr(qx, top - 4.0, qs, &h.qr_payload)?;
        let cn = Style::new(6.5);
        let cw = self.c.measure(&h.case_number, cn, "case_number")?;
        let cn_lines = if cw <= qs + 20.0 {
            vec![h.case_number.clone()]
        } else {
            self.c.wrap(&h.case_number, qs + 20.0, cn, "case_number")?
        };
        let mut qy = top + qs - 3.0;
        for l in &cn_lines {
            let w = self.c.measure(l, cn, "case_number")?;
            self.c
                .text(PAGE_W - MARGIN_X - w, qy, l, cn, "case_number")?;
            qy += cn.line_h();
        }
        self.c.y = ly.max(qy).max(top + 48.0) + 4.0;

        // Case number, print time and form version as the first table row.
        let cells = [
            val("业务编号", "Case No.", &h.case_number, "case_number", 0.38),
            val("打印时间", "Printed at", &h.printed_at, "printed_at", 0.37),
            val(
                "表单版本",
                "Form version",
                &h.form_version,
                "form_version",
                0.25,
            ),
        ];
        self.row(&cells)?;
        self.c.y += 4.0;
        Ok(())
    }

    /// Continuation pages: a one-line running header.
    fn next_page(&mut self) -> CoreResult<()> {
        self.c.new_page();
        let st = Style::new(8.0).grey(0.25);
        let left = format!("{}（续） {} (continued)", self.title_zh, self.title_en);
        self.c.text(MARGIN_X, MARGIN_TOP, &left, st, "title")?;
        let right = format!("{} · {}", self.header.case_number, self.copy_label());
        let w = self.c.measure(&right, st, "case_number")?;
        self.c
            .text(PAGE_W - MARGIN_X - w, MARGIN_TOP, &right, st, "case_number")?;
        self.c.line(
            MARGIN_X,
            MARGIN_TOP + 14.0,
            PAGE_W - MARGIN_X,
            MARGIN_TOP + 14.0,
            0.5,
            0.5,
        );
        self.c.y = MARGIN_TOP + 22.0;
        Ok(())
    }

    /// Start a new page when `h` more points do not fit.
    fn ensure(&mut self, h: f32) -> CoreResult<()> {
        if self.c.y + h > CONTENT_BOTTOM {
            self.next_page()?;
        }
        Ok(())
    }

    /// Section heading bar; `keep` is the height that must follow it on the same page.
    fn section(&mut self, zh: &str, en: &str, keep: f32) -> CoreResult<()> {
        let bar = 15.0;
        self.ensure(bar + keep + 4.0)?;
        self.c.y += 4.0;
        let top = self.c.y;
        self.c.fill_rect(MARGIN_X, top, CONTENT_W, bar, 0.82);
        let zs = Style::new(9.5).bold();
        let w = self.c.measure(zh, zs, "section")?;
        self.c.text(MARGIN_X + PAD, top + 2.2, zh, zs, "section")?;
        self.c.text(
            MARGIN_X + PAD + w + 6.0,
            top + 4.0,
            en,
            Style::new(7.5).grey(0.2),
            "section",
        )?;
        self.c.y = top + bar;
        Ok(())
    }

    fn lay(&self, cell: &Cell, w: f32) -> CoreResult<Laid> {
        match cell.kind {
            Kind::Value { min_h } => {
                let label_w = (w * 0.38).min(76.0);
                let label_zh = self
                    .c
                    .wrap(cell.zh, label_w - 2.0 * PAD, LABEL_ZH, "label")?;
                let label_en = self
                    .c
                    .wrap(cell.en, label_w - 2.0 * PAD, LABEL_EN, "label")?;
                let value = self
                    .c
                    .wrap(cell.value, w - label_w - 2.0 * PAD, VALUE, cell.field)?;
                let lh =
                    Canvas::lines_h(&label_zh, LABEL_ZH) + Canvas::lines_h(&label_en, LABEL_EN);
                let vh = Canvas::lines_h(&value, VALUE);
                Ok(Laid {
                    label_zh,
                    label_en,
                    value,
                    label_w,
                    h: (lh.max(vh) + 5.0).max(min_h),
                })
            }
            Kind::Sign { h } | Kind::Stamp { h } => {
                let label_zh = self.c.wrap(cell.zh, w - 2.0 * PAD, LABEL_ZH, "label")?;
                let label_en = self.c.wrap(cell.en, w - 2.0 * PAD, LABEL_EN, "label")?;
                let value = self
                    .c
                    .wrap(cell.value, w - 2.0 * PAD, Style::new(7.5), cell.field)?;
                let content = Canvas::lines_h(&label_zh, LABEL_ZH)
                    + Canvas::lines_h(&label_en, LABEL_EN)
                    + Canvas::lines_h(&value, Style::new(7.5))
                    + 22.0;
                Ok(Laid {
                    label_zh,
                    label_en,
                    value,
                    label_w: w,
                    h: h.max(content + 2.0 * PAD),
                })
            }
        }
    }

    /// Height `row` would take.
    fn row_h(&self, cells: &[Cell]) -> CoreResult<f32> {
        let total: f32 = cells.iter().map(|c| c.span).sum();
        let mut h = 0.0f32;
        for c in cells {
            h = h.max(self.lay(c, CONTENT_W * c.span / total)?.h);
        }
        Ok(h)
    }

    /// Height `para` would take.
    fn para_h(&self, zh: &str, en: &str, field: &str) -> CoreResult<f32> {
        let w = CONTENT_W - 16.0 - 2.0 * PAD;
        let zl = self.c.wrap(zh, w, BODY_ZH, field)?;
        let el = if en.is_empty() {
            Vec::new()
        } else {
            self.c.wrap(en, w, BODY_EN, field)?
        };
        Ok(Canvas::lines_h(&zl, BODY_ZH) + Canvas::lines_h(&el, BODY_EN) + 4.0)
    }

    /// One table row: cells side by side, all as tall as the tallest.
    fn row(&mut self, cells: &[Cell]) -> CoreResult<()> {
        let total: f32 = cells.iter().map(|c| c.span).sum();
        let widths: Vec<f32> = cells.iter().map(|c| CONTENT_W * c.span / total).collect();
        let laid: Vec<Laid> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| self.lay(c, *w))
            .collect::<CoreResult<_>>()?;
        let h = laid.iter().map(|l| l.h).fold(0.0, f32::max);
        self.ensure(h)?;
        let top = self.c.y;
        let mut x = MARGIN_X;
        for ((cell, w), l) in cells.iter().zip(&widths).zip(&laid) {
            self.draw_cell(cell, x, top, *w, h, l)?;
            x += w;
        }
        self.c.y = top + h;
        Ok(())
    }

    fn draw_cell(
        &mut self,
        cell: &Cell,
        x: f32,
        top: f32,
        w: f32,
        h: f32,
        l: &Laid,
    ) -> CoreResult<()> {
        match cell.kind {
            Kind::Value { .. } => {
                self.c.fill_rect(x, top, l.label_w, h, 0.94);
                self.c.stroke_rect(x, top, w, h, BORDER, 0.35);
                self.c
                    .line(x + l.label_w, top, x + l.label_w, top + h, BORDER, 0.35);
                let lh =
                    Canvas::lines_h(&l.label_zh, LABEL_ZH) + Canvas::lines_h(&l.label_en, LABEL_EN);
                let mut ly = top + (h - lh) / 2.0;
                ly += self.c.lines(x + PAD, ly, &l.label_zh, LABEL_ZH, "label")?;
                self.c.lines(x + PAD, ly, &l.label_en, LABEL_EN, "label")?;
                let vh = Canvas::lines_h(&l.value, VALUE);
                let vy = if l.value.len() <= 1 {
                    top + (h - vh) / 2.0 + 0.5
                } else {
                    top + PAD + 0.5
                };
                self.c
                    .lines(x + l.label_w + PAD, vy, &l.value, VALUE, cell.field)?;
            }
            Kind::Sign { .. } => {
                self.c.stroke_rect(x, top, w, h, BORDER, 0.35);
                let mut ly = top + PAD;
                ly += self.c.lines(x + PAD, ly, &l.label_zh, LABEL_ZH, "label")?;
                self.c.lines(x + PAD, ly, &l.label_en, LABEL_EN, "label")?;
                // Bottom: printed name, then the date line.
                let small = Style::new(7.5);
                let date_top = top + h - PAD - 10.0;
                let name_h = Canvas::lines_h(&l.value, small);
                self.c.lines(
                    x + PAD,
                    date_top - name_h - 2.0,
                    &l.value,
                    small,
                    cell.field,
                )?;
                let dl = Style::new(7.0).grey(0.3);
                let dw = self.c.text(x + PAD, date_top, "日期 Date", dl, "label")?;
                let lx = x + PAD + dw + 3.0;
                if !cell.date.is_empty() {
                    self.c
                        .text(lx + 2.0, date_top - 0.5, cell.date, small, "date")?;
                }
                self.c
                    .line(lx, date_top + 9.0, x + w - PAD, date_top + 9.0, 0.4, 0.5);
            }
            Kind::Stamp { .. } => {
                self.c.stroke_rect(x, top, w, h, BORDER, 0.35);
                let mut ly = top + PAD;
                ly += self.c.lines(x + PAD, ly, &l.label_zh, LABEL_ZH, "label")?;
                self.c.lines(x + PAD, ly, &l.label_en, LABEL_EN, "label")?;
                // A light dashed-looking circle guide would need curves; a faint square is enough.
                let s = (h - 30.0).min(w - 16.0).max(10.0);
                let sx = x + (w - s) / 2.0;
                self.c.stroke_rect(sx, top + h - s - 6.0, s, s, 0.3, 0.75);
            }
        }
        Ok(())
    }

    /// A bilingual paragraph with an optional checkbox or marker in front.
    fn para(&mut self, marker: Marker, zh: &str, en: &str, field: &str) -> CoreResult<()> {
        let indent = 16.0;
        let w = CONTENT_W - indent - 2.0 * PAD;
        let zl = self.c.wrap(zh, w, BODY_ZH, field)?;
        let el = if en.is_empty() {
            Vec::new()
        } else {
            self.c.wrap(en, w, BODY_EN, field)?
        };
        let h = Canvas::lines_h(&zl, BODY_ZH) + Canvas::lines_h(&el, BODY_EN) + 4.0;
        self.ensure(h)?;
        let top = self.c.y + 2.0;
        match marker {
            Marker::Check(checked) => self.c.checkbox(MARGIN_X + PAD, top + 1.0, 8.5, checked),
            Marker::Text(t) => {
                self.c.text(MARGIN_X + PAD, top, t, BODY_ZH.bold(), field)?;
            }
        }
        let x = MARGIN_X + PAD + indent;
        let mut y = top;
        y += self.c.lines(x, y, &zl, BODY_ZH, field)?;
        self.c.lines(x, y, &el, BODY_EN, field)?;
        self.c.y += h;
        Ok(())
    }

    /// Page footers with "n / N", the PDF metadata, and the bytes.
    fn finish(mut self) -> CoreResult<Vec<u8>> {
        let n = self.c.pages.len();
        let foot = Style::new(6.5).grey(0.35);
        let left = format!(
            "{} · 业务编号 Case No. {} · 版本 Form {} · {}",
            self.title_zh,
            self.header.case_number,
            self.header.form_version,
            self.copy_label()
        );
        let left2 = format!(
            "Case ID {} · 打印 Printed {}",
            self.header.case_id, self.header.printed_at
        );
        for i in 0..n {
            let cur = self.c.pages.len() - 1;
            // Draw on page i by temporarily making it the last one is awkward; swap instead.
            self.c.pages.swap(i, cur);
            let fy = PAGE_H - 38.0;
            self.c
                .line(MARGIN_X, fy - 3.0, PAGE_W - MARGIN_X, fy - 3.0, 0.4, 0.6);
            let page_no = format!("第 {} / {} 页  Page {} / {}", i + 1, n, i + 1, n);
            let pst = Style::new(8.0);
            let pw = self.c.measure(&page_no, pst, "page")?;
            self.c
                .text(PAGE_W - MARGIN_X - pw, fy, &page_no, pst, "page")?;
            let avail = CONTENT_W - pw - 12.0;
            for (j, t) in [&left, &left2].into_iter().enumerate() {
                let lines = self.c.wrap(t, avail, foot, "footer")?;
                if let Some(first) = lines.first() {
                    self.c
                        .text(MARGIN_X, fy + j as f32 * 9.0, first, foot, "footer")?;
                }
            }
            self.c.pages.swap(i, cur);
        }

        let mut doc = self.c.doc;
        let created = chrono::DateTime::parse_from_rfc3339(&self.header.printed_at_utc)
            .map(|d| d.timestamp())
            .unwrap_or_else(|_| chrono::Utc::now().timestamp());
        let when = printpdf::OffsetDateTime::from_unix_timestamp(created)
            .map_err(|e| CoreError::new(ErrorCode::Render, format!("creation date: {e}")))?;
        let info = &mut doc.metadata.info;
        info.creation_date = when;
        info.modification_date = when;
        info.metadata_date = when;
        info.author = format!("{} {}", self.header.branch_name, self.header.branch_code);
        info.creator = "UnlockDesk".to_string();
        info.producer = "UnlockDesk (printpdf 0.12)".to_string();
        info.subject = self.header.case_number.clone();
        info.identifier = self.header.case_id.clone();
        let pages = self
            .c
            .pages
            .into_iter()
            .map(|p| printpdf::PdfPage::new(printpdf::Mm(210.0), printpdf::Mm(297.0), p.ops))
            .collect();
        doc.with_pages(pages);
        let mut warnings: Vec<PdfWarnMsg> = Vec::new();
        let opts = PdfSaveOptions {
            optimize: false,
            ..PdfSaveOptions::default()
        };
        let mut lo = doc.to_lopdf_document(&opts, &mut warnings);
        for obj in lo.objects.values_mut() {
            if let lopdf::Object::Stream(s) = obj {
                compress(s);
            }
        }
        let mut bytes = Vec::with_capacity(96 * 1024);
        lo.save_to(&mut bytes).map_err(|e| {
            CoreError::new(
                ErrorCode::Render,
                format!("PDF serialisation failed: {e}; {warnings:?}"),
            )
        })?;
        Ok(bytes)
    }
}

/// Flate-compress a stream at level 3: measured on the form, level 9 (lopdf's choice) is
/// ~7x slower than level 3 for ~4 % smaller output.
fn compress(s: &mut lopdf::Stream) {
    use std::io::Write;
    if s.dict.get(b"Filter").is_ok() || s.content.len() < 64 {
        return;
    }
    let mut enc = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(s.content.len() / 2),
        flate2::Compression::new(3),
    );
    if enc.write_all(&s.content).is_err() {
        return;
    }
    if let Ok(out) = enc.finish() {
        if out.len() + 19 < s.content.len() {
            s.dict.set("Filter", "FlateDecode");
            s.set_content(out);
        }
    }
}

#[derive(Clone, Copy)]
enum Marker<'a> {
    Check(bool),
    Text(&'a str),
}

/// Render one document.
pub(crate) fn render(fonts: &FontSet, doc: &PrintDocument) -> CoreResult<Vec<u8>> {
    match doc {
        PrintDocument::Application(v) => application(fonts, v),
        PrintDocument::Receipt(v) => receipt(fonts, v),
    }
}

fn application(fonts: &FontSet, v: &ApplicationFormView) -> CoreResult<Vec<u8>> {
    let mut f = Form::new(
        fonts,
        &v.header,
        "数字钱包解锁申请表",
        "Digital Wallet Unlock Application",
    );
    f.first_page()?;

    f.section("一、申请人信息", "Applicant (customer)", 24.0)?;
    f.row(&[
        val("姓名", "Name", &v.customer_name, "customer_name", 0.5),
        val(
            "外文/拼音姓名",
            "Name in Latin letters",
            &v.customer_name_latin,
            "customer_name_latin",
            0.5,
        ),
    ])?;
    f.row(&[
        val("性别", "Sex", &v.sex, "sex", 0.27),
        val("国籍", "Nationality", &v.nationality, "nationality", 0.33),
        val("职业", "Occupation", &v.occupation, "occupation", 0.4),
    ])?;
    f.row(&[
        val("证件类型", "ID document", &v.id_type, "id_type", 0.5),
        val("证件号码", "ID number", &v.id_number, "id_number", 0.5),
    ])?;
    f.row(&[
        val(
            "证件有效期至",
            "Valid until",
            &v.id_valid_until,
            "id_valid_until",
            0.5,
        ),
        val("联系电话", "Phone", &v.phone, "phone", 0.5),
    ])?;
    f.row(&[val("联系地址", "Address", &v.address, "address", 1.0)])?;

    f.section(
        "二、代理人信息",
        "Agent (when someone acts for the customer)",
        24.0,
    )?;
    match &v.agent {
        Some(a) => {
            f.row(&[
                val("代理人姓名", "Agent's name", &a.name, "agent.name", 0.5),
                val(
                    "与申请人关系",
                    "Relationship",
                    &a.relationship,
                    "agent.relationship",
                    0.5,
                ),
            ])?;
            f.row(&[
                val("证件类型", "ID document", &a.id_type, "agent.id_type", 0.5),
                val(
                    "证件号码",
                    "ID number",
                    &a.id_number,
                    "agent.id_number",
                    0.5,
                ),
            ])?;
            f.row(&[val("联系电话", "Phone", &a.phone, "agent.phone", 1.0)])?;
        }
        None => {
            f.row(&[val(
                "代理人",
                "Agent",
                "无（申请人本人办理） None: the applicant applies in person",
                "agent",
                1.0,
            )])?;
        }
    }

    f.section("三、申请事项", "Request", 24.0)?;
    f.row(&[
        val(
            "钱包运营机构",
            "Wallet operator",
            &v.wallet_operator,
            "wallet_operator",
            0.5,
        ),
        val(
            "钱包类别",
            "Wallet class",
            &v.wallet_class,
            "wallet_class",
            0.5,
        ),
    ])?;
    f.row(&[
        val("钱包编号", "Wallet ID", &v.wallet_id, "wallet_id", 0.5),
        val("锁定原因", "Lock cause", &v.lock_cause, "lock_cause", 0.5),
    ])?;
    f.row(&[
        val(
            "申请办理",
            "Requested action",
            &v.requested_action,
            "requested_action",
            0.5,
        ),
        val(
            "关联银行卡",
            "Linked bank card",
            &v.bank_card,
            "bank_card",
            0.5,
        ),
    ])?;
    f.row(&[val("申请原因", "Reason", &v.reason, "reason", 1.0)])?;
    let materials = v.materials.join("；");
    f.row(&[val(
        "已提交材料",
        "Materials presented",
        &materials,
        "materials",
        1.0,
    )])?;

    let decls: [(bool, &str, &str, &str); 3] = [
        (
            v.declaration_true,
            "本人承诺所填信息真实、准确、完整，如有虚假，愿承担相应责任。",
            "I declare that the information given is true, accurate and complete, and I accept responsibility for any false statement.",
            "declaration_true",
        ),
        (
            v.consent_query,
            "本人同意并授权银行查询本人数字钱包相关信息，并就本申请联系钱包运营机构。",
            "I consent to the bank querying my digital wallet information and contacting the wallet operator about this application.",
            "consent_query",
        ),
        (
            v.risk_acknowledged,
            "本人已阅读并知悉风险提示：解锁后由本人自行设置新密码；银行工作人员不会索取密码或短信验证码；因本人泄露密码造成的损失由本人承担。",
            "I have read the risk notice: after unlocking I set a new password myself; bank staff never ask for passwords or SMS codes; losses caused by disclosing my password are my own responsibility.",
            "risk_acknowledged",
        ),
    ];
    let signature = [
        sign(
            "申请人/代理人签名",
            "Signature of the customer or agent (agents sign their own name)",
            "",
            "",
            "signature",
            0.7,
            52.0,
        ),
        sign(
            "申请日期",
            "Date of application",
            "",
            "",
            "signature_date",
            0.3,
            52.0,
        ),
    ];
    // The declarations and the signature under them stay on one page.
    let mut keep = f.row_h(&signature)? + 3.0;
    for (_, zh, en, field) in &decls {
        keep += f.para_h(zh, en, field)?;
    }
    f.section("四、声明与授权", "Declarations and consents", keep)?;
    for (checked, zh, en, field) in &decls {
        f.para(Marker::Check(*checked), zh, en, field)?;
    }
    f.c.y += 3.0;
    f.row(&signature)?;

    f.section("五、银行受理（银行填写）", "For bank use", 40.0)?;
    f.row(&[val(
        "身份核验",
        "Identity check",
        &v.identity_check,
        "identity_check",
        1.0,
    )])?;
    let mut opinion = [val(
        "受理意见",
        "Acceptance opinion",
        &v.acceptance_opinion,
        "acceptance_opinion",
        1.0,
    )];
    opinion[0].kind = Kind::Value { min_h: 34.0 };
    f.row(&opinion)?;
    f.row(&[
        sign("经办柜员", "Teller", &v.teller, "", "teller", 0.25, 72.0),
        sign("复核", "Reviewer", &v.reviewer, "", "reviewer", 0.25, 72.0),
        sign(
            "授权主管",
            "Authorizer",
            &v.authorizer,
            &v.authorized_date,
            "authorizer",
            0.25,
            72.0,
        ),
        Cell {
            zh: "业务办讫章",
            en: "\"Business completed\" stamp",
            value: "",
            field: "stamp",
            span: 0.25,
            kind: Kind::Stamp { h: 72.0 },
            date: "",
        },
    ])?;
    f.finish()
}

fn receipt(fonts: &FontSet, v: &ReceiptView) -> CoreResult<Vec<u8>> {
    let mut f = Form::new(
        fonts,
        &v.header,
        "数字钱包解锁回执",
        "Digital Wallet Unlock Receipt",
    );
    f.first_page()?;

    f.section("一、办理结果", "Result", 24.0)?;
    f.row(&[
        val("办理结果", "Outcome", &v.outcome_text, "outcome", 0.5),
        val("办理时间", "Time", &v.completed_at, "completed_at", 0.5),
    ])?;
    f.row(&[
        val("申请人", "Customer", &v.customer_name, "customer_name", 0.5),
        val("联系电话", "Phone", &v.phone, "phone", 0.5),
    ])?;
    f.row(&[
        val(
            "钱包运营机构",
            "Wallet operator",
            &v.wallet_operator,
            "wallet_operator",
            0.5,
        ),
        val("钱包编号", "Wallet ID", &v.wallet_id, "wallet_id", 0.5),
    ])?;
    f.row(&[
        val(
            "办理事项",
            "Requested action",
            &v.requested_action,
            "requested_action",
            0.5,
        ),
        val(
            "运营机构受理编号",
            "Operator reference",
            &v.operator_reference,
            "operator_reference",
            0.5,
        ),
    ])?;
    match v.outcome {
        ReceiptOutcome::Unlocked => f.row(&[val(
            "告知方式",
            "Customer notified",
            &v.notified,
            "notified",
            1.0,
        )])?,
        ReceiptOutcome::Failed => f.row(&[val(
            "未成功原因及后续",
            "Reason and next step",
            &v.failure_detail,
            "failure_detail",
            1.0,
        )])?,
    }

    f.section("二、您接下来要做的", "What you do next", 30.0)?;
    let steps: [(&str, &str); 3] = match v.outcome {
        ReceiptOutcome::Unlocked => [
            (
                "请在钱包应用中按提示自行设置新的登录密码。",
                "Open the wallet app and set a new login password yourself, following its prompts.",
            ),
            (
                "新密码只由您本人设置和保管，切勿告诉任何人，包括银行工作人员；银行不会索取您的密码或短信验证码。",
                "Only you set and keep the new password. Never tell anyone, bank staff included: the bank never asks for your password or SMS code.",
            ),
            (
                "登录后请核对余额和近期交易，如有异常请立即联系银行或钱包运营机构。",
                "After signing in, check your balance and recent transactions; report anything unusual to the bank or the wallet operator at once.",
            ),
        ],
        ReceiptOutcome::Failed => [
            (
                "本次解锁未成功，钱包仍处于锁定状态；银行将按上表所列后续方式继续跟进。",
                "The unlock did not succeed and the wallet is still locked; the bank follows up as shown above.",
            ),
            (
                "请勿向任何人透露密码或短信验证码，银行工作人员也不会索取。",
                "Never tell anyone your password or SMS code; bank staff will never ask for them.",
            ),
            (
                "再次办理时请携带本回执及完整的身份证明材料。",
                "When you come back, bring this receipt and complete identity documents.",
            ),
        ],
    };
    for (i, (zh, en)) in steps.iter().enumerate() {
        let m = ["1.", "2.", "3."][i];
        f.para(Marker::Text(m), zh, en, "next_steps")?;
    }

    f.section("三、温馨提示", "After-care", 40.0)?;
    f.para(
        Marker::Text("•"),
        "解锁后仍无法使用：可能处于系统维护时段，请稍后再试；检查余额或支付限额；检查钱包设置是否被更改；如再次被锁定，请联系钱包运营机构或来行办理。",
        "Still not working after the unlock: it may be a maintenance window, so try again later; check the balance or payment limits; check whether settings were changed; if it is locked again, contact the wallet operator or visit the branch.",
        "after_care",
    )?;
    f.para(
        Marker::Text("•"),
        "解锁未成功：请备齐完整资料再次联系银行或钱包运营机构，可要求升级处理；查阅钱包运营机构常见问题；仍未解决的，可通过投诉渠道反映或寻求法律帮助。",
        "If the unlock failed: contact the bank or the wallet operator again with complete information and ask for escalation; read the operator's FAQ; if it is still unresolved, use the complaint channels or seek legal help.",
        "after_care",
    )?;
    f.para(
        Marker::Text("•"),
        "预防再次锁定：使用强密码并定期更换；开启账户变动提醒；及时更新钱包应用；避免在公共 Wi-Fi 下进行支付。",
        "Prevention: use a strong password and change it regularly; turn on account alerts; keep the wallet app updated; avoid paying over public Wi-Fi.",
        "after_care",
    )?;

    // Anti-fraud warning in a heavy box.
    let zh = "切勿向任何人透露密码或短信验证码。谨防冒充银行、钱包运营机构或公检法工作人员的来电和信息；银行不会要求您转账到所谓“安全账户”。请开启双重验证（两步验证）。";
    let en = "Never share your password or SMS code with anyone. Beware of calls and messages from people posing as bank, wallet-operator or police staff; the bank never asks you to move money to a \"safe account\". Turn on two-factor authentication.";
    let w = CONTENT_W - 4.0 * PAD;
    let hst = Style::new(10.0).bold();
    let zl = f.c.wrap(zh, w, BODY_ZH.bold(), "anti_fraud")?;
    let el = f.c.wrap(en, w, BODY_EN, "anti_fraud")?;
    let h =
        hst.line_h() + Canvas::lines_h(&zl, BODY_ZH) + Canvas::lines_h(&el, BODY_EN) + 3.0 * PAD;
    f.c.y += 6.0;
    f.ensure(h)?;
    let top = f.c.y;
    f.c.fill_rect(MARGIN_X, top, CONTENT_W, h, 0.95);
    f.c.stroke_rect(MARGIN_X, top, CONTENT_W, h, 1.6, 0.0);
    let mut y = top + PAD + 1.0;
    f.c.text(
        MARGIN_X + 2.0 * PAD,
        y,
        "防诈骗提示  Anti-fraud warning",
        hst,
        "anti_fraud",
    )?;
    y += hst.line_h();
    y +=
        f.c.lines(MARGIN_X + 2.0 * PAD, y, &zl, BODY_ZH.bold(), "anti_fraud")?;
    f.c.lines(MARGIN_X + 2.0 * PAD, y, &el, BODY_EN, "anti_fraud")?;
    f.c.y = top + h;

    f.section("四、签字确认", "Signatures", 70.0)?;
    f.row(&[
        sign(
            "客户签名",
            "Customer",
            "",
            "",
            "customer_signature",
            0.25,
            74.0,
        ),
        sign("经办柜员", "Teller", &v.teller, "", "teller", 0.25, 74.0),
        sign(
            "授权主管",
            "Authorizer",
            &v.authorizer,
            "",
            "authorizer",
            0.25,
            74.0,
        ),
        Cell {
            zh: "业务办讫章",
            en: "\"Business completed\" stamp",
            value: "",
            field: "stamp",
            span: 0.25,
            kind: Kind::Stamp { h: 74.0 },
            date: "",
        },
    ])?;
    f.finish()
}
