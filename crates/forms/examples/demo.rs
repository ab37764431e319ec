//! Render the demo documents to a directory: `cargo run -p unlockdesk-forms --example demo -- OUT_DIR`.
#[path = "../tests/common/mod.rs"]
mod common;

use unlockdesk_core::print::{CopyKind, Renderer};

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/forms-demo".into());
    std::fs::create_dir_all(&out).expect("create output dir");
    let r = unlockdesk_forms::PdfRenderer::new();
    for max in [false, true] {
        let tag = if max { "max" } else { "min" };
        for (name, doc) in [
            (
                "application-customer",
                common::application(max, CopyKind::Customer),
            ),
            ("application-bank", common::application(max, CopyKind::Bank)),
            ("receipt-customer", common::receipt(max, CopyKind::Customer)),
            ("receipt-bank", common::receipt(max, CopyKind::Bank)),
        ] {
            let t = std::time::Instant::now();
            let pdf = r.render(&doc).expect("render");
            let path = format!("{out}/{name}-{tag}.pdf");
            std::fs::write(&path, &pdf).expect("write");
            println!("{path}: {} bytes, {:?}", pdf.len(), t.elapsed());
        }
    }
    // Median of repeated renders with the fonts loaded (what the criterion bench measures).
    let doc = common::application(false, CopyKind::Customer);
    let mut times: Vec<f64> = (0..60)
        .map(|_| {
            let t = std::time::Instant::now();
            let _ = r.render(&doc).expect("render");
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    let size = r.render(&doc).expect("render").len();
    println!(
        "printpdf application-customer-min: median {:.2} ms over 60 renders, {} bytes",
        times[30], size
    );
}
