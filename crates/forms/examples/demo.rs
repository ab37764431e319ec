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
}
