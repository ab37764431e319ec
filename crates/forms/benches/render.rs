//! Render benchmark: application form with fonts already loaded.
//! Goal: ≤ 5 ms median and ≤ 100 KB per copy. `cargo bench -p unlockdesk-forms`.
#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use unlockdesk_core::print::{CopyKind, Renderer};

fn bench(c: &mut Criterion) {
    let r = unlockdesk_forms::PdfRenderer::new();
    r.preload().expect("fonts");
    let docs = [
        (
            "application-customer-min",
            common::application(false, CopyKind::Customer),
        ),
        (
            "application-bank-min",
            common::application(false, CopyKind::Bank),
        ),
        (
            "application-customer-max",
            common::application(true, CopyKind::Customer),
        ),
        (
            "receipt-customer-min",
            common::receipt(false, CopyKind::Customer),
        ),
    ];
    for (name, doc) in &docs {
        let size = r.render(doc).expect("render").len();
        eprintln!("{name}: {size} bytes ({:.1} KB)", size as f64 / 1024.0);
        c.bench_function(name, |b| {
            b.iter(|| r.render(std::hint::black_box(doc)).expect("render"))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
