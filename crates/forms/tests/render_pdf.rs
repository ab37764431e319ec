//! Renders every template at minimum and maximum field lengths and checks each PDF with the
//! poppler and qpdf tools: structure (`qpdf --check`), fonts (`pdffonts`: embedded, subset,
//! ToUnicode), text (`pdftotext`: Chinese title, masking), geometry (`pdftotext -bbox`:
//! nothing off the page, no overlapping words), metadata (`pdfinfo`: creation date).
//! Tests skip with a message when the tools are not installed.
mod common;

use std::path::PathBuf;
use std::process::Command;
use unlockdesk_core::print::{CopyKind, PrintDocument, Renderer};
use unlockdesk_core::ErrorCode;
use unlockdesk_forms::PdfRenderer;

fn tools_available() -> bool {
    let ok = ["qpdf", "pdffonts", "pdftotext", "pdfinfo"]
        .iter()
        .all(|t| Command::new(t).arg("-v").output().is_ok());
    if !ok {
        eprintln!("SKIP: qpdf / poppler-utils (pdffonts, pdftotext, pdfinfo) not installed");
    }
    ok
}

fn write(name: &str, pdf: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("unlockdesk-forms-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.pdf"));
    std::fs::write(&p, pdf).unwrap();
    p
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Word {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
    text: String,
}

fn words(path: &str) -> Vec<(usize, Word)> {
    let html = run("pdftotext", &["-bbox", path, "-"]);
    let mut page = 0;
    let mut out = Vec::new();
    for line in html.lines() {
        let l = line.trim();
        if l.starts_with("<page") {
            page += 1;
        }
        if let Some(rest) = l.strip_prefix("<word ") {
            let attr = |k: &str| -> f32 {
                let i = rest.find(&format!("{k}=\"")).unwrap() + k.len() + 2;
                rest[i..].split('"').next().unwrap().parse().unwrap()
            };
            let text = rest
                .split('>')
                .nth(1)
                .unwrap_or("")
                .split('<')
                .next()
                .unwrap_or("")
                .to_string();
            out.push((
                page,
                Word {
                    x0: attr("xMin"),
                    y0: attr("yMin"),
                    x1: attr("xMax"),
                    y1: attr("yMax"),
                    text,
                },
            ));
        }
    }
    out
}

/// Every check on one rendered PDF; returns the extracted text.
fn check_pdf(name: &str, pdf: &[u8]) -> String {
    let path = write(name, pdf);
    let p = path.to_str().unwrap();
    assert!(
        pdf.len() <= 100 * 1024,
        "{name}: {} bytes > 100 KB",
        pdf.len()
    );

    let out = Command::new("qpdf").args(["--check", p]).output().unwrap();
    assert!(
        out.status.success(),
        "{name}: qpdf --check: {}",
        String::from_utf8_lossy(&out.stdout)
    );

    let fonts = run("pdffonts", &[p]);
    let rows: Vec<&str> = fonts
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!rows.is_empty(), "{name}: no fonts");
    for r in &rows {
        let cols: Vec<&str> = r.split_whitespace().collect();
        // name type... encoding emb sub uni object ID: emb/sub/uni are columns -5..-3.
        let n = cols.len();
        assert_eq!(
            &cols[n - 5..n - 2],
            &["yes", "yes", "yes"],
            "{name}: font not embedded+subset+unicode: {r}"
        );
        assert!(cols[0].contains('+'), "{name}: subset tag missing: {r}");
    }

    let info = run("pdfinfo", &[p]);
    let created = info
        .lines()
        .find(|l| l.starts_with("CreationDate:"))
        .unwrap_or("");
    assert!(created.contains("2026"), "{name}: creation date: {created}");

    // Geometry: inside the page margins, and no two words overlap (boxes shrunk vertically:
    // poppler's word boxes span the font's full ascent+descent, taller than the line pitch).
    let ws = words(p);
    assert!(!ws.is_empty());
    for (pg, w) in &ws {
        assert!(
            w.x0 >= 38.0 && w.x1 <= 595.28 - 38.0 && w.y0 >= 20.0 && w.y1 <= 841.89 - 12.0,
            "{name}: word '{}' on page {pg} off the page area: {:.1},{:.1}-{:.1},{:.1}",
            w.text,
            w.x0,
            w.y0,
            w.x1,
            w.y1
        );
    }
    for (i, (pa, a)) in ws.iter().enumerate() {
        for (pb, b) in ws.iter().skip(i + 1) {
            if pa != pb {
                continue;
            }
            let shrink = |w: &Word| {
                let h = w.y1 - w.y0;
                (w.x0 + 0.3, w.y0 + h * 0.3, w.x1 - 0.3, w.y1 - h * 0.3)
            };
            let (ax0, ay0, ax1, ay1) = shrink(a);
            let (bx0, by0, bx1, by1) = shrink(b);
            let overlap = ax0 < bx1 && bx0 < ax1 && ay0 < by1 && by0 < ay1;
            assert!(
                !overlap,
                "{name}: page {pa}: '{}' overlaps '{}'",
                a.text, b.text
            );
        }
    }
    run("pdftotext", &["-layout", p, "-"])
}

fn check_masking(name: &str, text: &str, copy: CopyKind, receipt: bool) {
    let compact: String = text.split_whitespace().collect();
    match copy {
        CopyKind::Customer => {
            for full in [
                common::FULL_ID,
                common::FULL_PHONE,
                common::FULL_CARD,
                common::FULL_WALLET,
            ] {
                assert!(
                    !compact.contains(full),
                    "{name}: full number {full} on the customer copy"
                );
            }
            assert!(
                compact.contains("131****6789"),
                "{name}: masked phone missing"
            );
            if !receipt {
                assert!(
                    compact.contains("110***********0021"),
                    "{name}: masked ID missing"
                );
                assert!(
                    compact.contains("620000******0005"),
                    "{name}: masked card missing"
                );
            }
        }
        CopyKind::Bank => {
            // The demo branch archives the bank copy unmasked.
            assert!(
                compact.contains(common::FULL_PHONE),
                "{name}: bank copy should print the full phone"
            );
            if !receipt {
                assert!(
                    compact.contains(common::FULL_ID),
                    "{name}: bank copy should print the full ID"
                );
            }
        }
    }
}

#[test]
fn application_forms_at_min_and_max_lengths() {
    if !tools_available() {
        return;
    }
    let r = PdfRenderer::new();
    for max in [false, true] {
        for copy in [CopyKind::Customer, CopyKind::Bank] {
            let name = format!("application-{copy}-{}", if max { "max" } else { "min" });
            let pdf = r.render(&common::application(max, copy)).unwrap();
            let text = check_pdf(&name, &pdf);
            assert!(text.contains("数字钱包解锁申请表"), "{name}: title missing");
            assert!(
                text.contains("Digital Wallet Unlock Application"),
                "{name}: English title missing"
            );
            let compact: String = text.split_whitespace().collect();
            assert!(compact.contains(if max {
                "SH0099-20260302-0001"
            } else {
                "BJ001-20260302-0001"
            }));
            let pages = if max { 2 } else { 1 };
            assert!(
                compact.contains(&format!("Page1/{pages}")),
                "{name}: expected {pages} page(s)"
            );
            assert!(
                !compact.contains(&format!("Page{}/", pages + 1)),
                "{name}: more than {pages} pages"
            );
            for label in [
                "申请人信息",
                "代理人信息",
                "申请事项",
                "声明与授权",
                "业务办讫章",
                "授权主管",
                "复核",
            ] {
                assert!(compact.contains(label), "{name}: section '{label}' missing");
            }
            check_masking(&name, &text, copy, false);
        }
    }
}

#[test]
fn receipts_at_min_and_max_lengths() {
    if !tools_available() {
        return;
    }
    let r = PdfRenderer::new();
    for max in [false, true] {
        for copy in [CopyKind::Customer, CopyKind::Bank] {
            let name = format!("receipt-{copy}-{}", if max { "max" } else { "min" });
            let pdf = r.render(&common::receipt(max, copy)).unwrap();
            let text = check_pdf(&name, &pdf);
            let compact: String = text.split_whitespace().collect();
            for needle in [
                "数字钱包解锁回执",
                "已解锁",
                "自行设置新的登录密码",
                "防诈骗提示",
                "解锁后仍无法使用",
                "解锁未成功",
                "预防再次锁定",
                "Page1/1",
            ] {
                assert!(compact.contains(needle), "{name}: '{needle}' missing");
            }
            check_masking(&name, &text, copy, true);
        }
    }
}

#[test]
fn failed_unlock_receipt() {
    if !tools_available() {
        return;
    }
    let mut case = common::case(false);
    case.unlock = None;
    case.unlock_failures
        .push(unlockdesk_core::model::UnlockFailure {
            reason: "服务商系统维护 Operator maintenance".into(),
            next: unlockdesk_core::model::UnlockFailureNext::Retry,
            operator_ticket: "T-42".into(),
            by: unlockdesk_core::model::StaffId::parse("teller01").unwrap(),
            at: common::printed_at(),
        });
    let v = unlockdesk_core::print::receipt_view(
        &case,
        &common::branch(false),
        CopyKind::Customer,
        common::printed_at(),
        &common::names,
    )
    .unwrap();
    let pdf = PdfRenderer::new()
        .render(&PrintDocument::Receipt(v))
        .unwrap();
    let text = check_pdf("receipt-failed", &pdf);
    let compact: String = text.split_whitespace().collect();
    assert!(
        compact.contains("解锁未成功")
            && compact.contains("T-42")
            && compact.contains("服务商系统维护")
    );
}

/// The customer's copy of the application form for a customer named `name`.
fn customer_copy_for(r: &PdfRenderer, name: &str) -> Vec<u8> {
    let mut case = common::case(false);
    if let Some(f) = case.form.as_mut() {
        f.customer_name = name.into();
    }
    let v = unlockdesk_core::print::application_view(
        &case,
        &common::branch(false),
        CopyKind::Customer,
        common::printed_at(),
        &common::names,
    )
    .unwrap();
    r.render(&PrintDocument::Application(v)).unwrap()
}

/// 喆 and 堃 are in GBK but not GB 2312: they come from the complete Noto Sans SC face, which
/// is parsed only on first need (the reduced faces hold the common set), in the same PDF as
/// the common characters beside them.
#[test]
fn characters_outside_the_common_set_come_from_the_complete_face() {
    if !tools_available() {
        return;
    }
    let pdf = customer_copy_for(&PdfRenderer::new(), "王喆堃");
    let text = check_pdf("application-full-face", &pdf);
    assert!(text.contains("王喆堃"), "rare characters not extractable");
    let fonts = run(
        "pdffonts",
        &[write("application-full-face", &pdf).to_str().unwrap()],
    );
    // The reduced and the complete Regular face are embedded as two subsets.
    assert!(
        fonts.matches("NotoSansSC-Regular").count() == 2,
        "complete face not embedded:\n{fonts}"
    );
}

#[test]
fn extension_b_characters_fall_back_to_noto_sans_cjk() {
    if !tools_available() {
        return;
    }
    let r = PdfRenderer::new();
    if !r.has_fallback_font() {
        eprintln!("SKIP: no Noto Sans CJK on this system (install fonts-noto-cjk)");
        return;
    }
    let pdf = customer_copy_for(&r, "𠮷田花子");
    let text = check_pdf("application-fallback", &pdf);
    assert!(
        text.contains("𠮷田花子"),
        "fallback character not extractable"
    );
    let fonts = run(
        "pdffonts",
        &[write("application-fallback", &pdf).to_str().unwrap()],
    );
    assert!(
        fonts.contains("NotoSansCJK"),
        "fallback face not embedded:\n{fonts}"
    );
}

#[test]
fn a_character_no_font_has_is_a_render_error() {
    let mut case = common::case(false);
    if let Some(f) = case.form.as_mut() {
        f.reason = "忘记密码 \u{13000}".into();
    }
    let v = unlockdesk_core::print::application_view(
        &case,
        &common::branch(false),
        CopyKind::Bank,
        common::printed_at(),
        &common::names,
    )
    .unwrap();
    let e = PdfRenderer::new()
        .render(&PrintDocument::Application(v))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Render);
    assert!(
        e.message.contains("U+13000") && e.message.contains("'reason'"),
        "{}",
        e.message
    );
    assert_eq!(e.fields[0].field, "reason");
}

#[test]
fn rendering_is_repeatable_and_fonts_are_shared() {
    let r = PdfRenderer::new();
    r.preload().unwrap();
    let doc = common::application(false, CopyKind::Customer);
    let t = std::time::Instant::now();
    let a = r.render(&doc).unwrap();
    let b = r.render(&doc).unwrap();
    // Two renders after preload take milliseconds, not the seconds of re-parsing 20 MB of fonts.
    assert!(t.elapsed().as_millis() < 2000, "{:?}", t.elapsed());
    assert!(a.starts_with(b"%PDF-"));
    assert!((a.len() as i64 - b.len() as i64).abs() < 64);
}
