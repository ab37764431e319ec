//! Checks per second per document kind. Goal: ≥ 1 million PRC ID checks per
//! second on one core. Run: `cargo bench -p unlockdesk-core --bench identity`.
//! All numbers are synthetic or the standards' specimens.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use unlockdesk_core::identity::{check, check_mrz, live_status, names_match, DocKind};

const MRZ_L1: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
const MRZ_L2: &str = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";

fn bench(c: &mut Criterion) {
    let today = NaiveDate::from_ymd_opt(2026, 5, 20).unwrap();
    let mut g = c.benchmark_group("check");
    g.throughput(Throughput::Elements(1));
    let cases: &[(&str, Option<DocKind>, &str)] = &[
        ("prc-id", Some(DocKind::PrcId), "11010519491231002X"),
        ("prc-id-invalid", Some(DocKind::PrcId), "990105190002290011"),
        ("prc-id-detected", None, "11010519491231002X"),
        (
            "prc-id-full-width",
            Some(DocKind::PrcId),
            "１１０１０５１９４９１２３１００２Ｘ",
        ),
        ("prc-id-15", Some(DocKind::PrcId15), "110105491231002"),
        (
            "residence-permit",
            Some(DocKind::ResidencePermit),
            "810000199001010019",
        ),
        (
            "hk-macau-permit",
            Some(DocKind::HkMacauPermit),
            "M1234567801",
        ),
        (
            "taiwan-permit",
            Some(DocKind::TaiwanPermit),
            "1234567890(B)",
        ),
        (
            "foreign-permanent-id",
            Some(DocKind::ForeignPermanentId),
            "USA110090100012",
        ),
        (
            "driving-licence",
            Some(DocKind::DrivingLicence),
            "11010519491231002X",
        ),
        ("bank-card", Some(DocKind::BankCard), "6200 0000 0000 0005"),
        ("mobile", Some(DocKind::Mobile), "+86 131 2345 6789"),
    ];
    for (name, kind, value) in cases {
        g.bench_function(*name, |b| {
            b.iter(|| check(black_box(*kind), black_box(value), today))
        });
    }
    g.bench_function("passport-mrz", |b| {
        b.iter(|| check_mrz(black_box(MRZ_L1), black_box(MRZ_L2), today))
    });
    g.bench_function("live-status-prc-id-partial", |b| {
        b.iter(|| live_status(DocKind::PrcId, black_box("1101051949123"), today))
    });
    g.bench_function("names-match-mrz", |b| {
        b.iter(|| {
            names_match(
                DocKind::PassportMrz,
                black_box(&MRZ_L1[5..]),
                black_box("Anna Maria Eriksson"),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
