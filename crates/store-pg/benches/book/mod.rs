//! A synthetic appointment book, shared by the `branch` bench and `tests/plans.rs` (which
//! includes this file by path; a directory under `benches/` is not a bench target of its own).
//!
//! Every person is made up: names drawn from common surnames and given names, mobile numbers
//! `139xxxxxxxx`, resident ID numbers with a made-up sequence number and a valid GB 11643-1999
//! check character (so the importer accepts them as it would a real file).

use std::io::Write;

use chrono::{Duration, NaiveDate, NaiveTime};
use unlockdesk_core::identity::mod11_2_check_char;
use unlockdesk_core::*;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "小明", "华", "伟", "洋", "静", "帆", "磊", "敏", "婷", "强", "芳", "杰", "娜", "涛", "丽",
    "军", "霞", "鹏", "雪", "宇", "子涵", "一诺", "浩然", "欣怡",
];
const PROVINCES: &[&str] = &[
    "110105", "310104", "440305", "330106", "510107", "420106", "320102", "370202",
];

/// SplitMix64: the same seed gives the same book, with no crate for randomness.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One synthetic appointment: a slot in the three years before `today` or the month after,
/// reference `{prefix}{i:08}` (the prefix keeps the bulk load and an import apart).
pub fn synthetic(rng: &mut Rng, prefix: &str, i: u64, today: NaiveDate) -> Appointment {
    let day = today - Duration::days(3 * 365) + Duration::days(rng.below(3 * 365 + 30) as i64);
    let t = NaiveTime::from_hms_opt(9 + rng.below(8) as u32, (rng.below(4) * 15) as u32, 0)
        .unwrap_or_default();
    let birth = NaiveDate::from_ymd_opt(
        1940 + rng.below(65) as i32,
        1 + rng.below(12) as u32,
        1 + rng.below(28) as u32,
    )
    .unwrap_or(NaiveDate::MIN);
    let body = format!(
        "{}{}{:03}",
        PROVINCES[rng.below(PROVINCES.len() as u64) as usize],
        birth.format("%Y%m%d"),
        rng.below(999) + 1
    );
    let id_number = format!("{body}{}", mod11_2_check_char(&body).unwrap_or('0'));
    let name = format!(
        "{}{}",
        SURNAMES[rng.below(SURNAMES.len() as u64) as usize],
        GIVEN[rng.below(GIVEN.len() as u64) as usize]
    );
    let start = day.and_time(t);
    Appointment {
        id: AppointmentId(uuid::Uuid::from_u64_pair(rng.next(), rng.next())),
        reference: format!("{prefix}{i:08}"),
        name,
        phone: format!("139{:08}", rng.below(100_000_000)),
        id_type: DocumentType::PrcId,
        id_number,
        wallet_operator: "钱包服务商B".into(),
        lock_cause: LockCause::ALL[rng.below(LockCause::ALL.len() as u64) as usize],
        slot_start: start,
        slot_end: start + Duration::minutes(30),
        notes: String::new(),
        status: if day < today {
            AppointmentStatus::Done
        } else {
            AppointmentStatus::Waiting
        },
        case_id: None,
    }
}

/// The last 4 characters, as the store keeps `phone_tail` and `id_tail` (`codec::tail4`).
fn tail4(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    c[c.len().saturating_sub(4)..].iter().collect()
}

/// Load `rows` synthetic appointments (references `GEN00000000`…) with one `COPY` straight
/// into the table of migration 0001, the derived columns (`phone_tail`, `id_tail`,
/// `slot_day`) filled as the store fills them: the store's import path would take minutes for a
/// million rows, and what is measured later is the lookup, not the load. Returns about
/// `samples` of the rows, spread evenly, to look up afterwards.
pub fn copy_book(
    db: &mut postgres::Client,
    rows: u64,
    today: NaiveDate,
    samples: u64,
) -> Result<Vec<Appointment>, Box<dyn std::error::Error>> {
    let mut rng = Rng(0x00A1_1CE5);
    let every = (rows / samples.max(1)).max(1);
    let mut picked = Vec::new();
    let mut tx = db.transaction()?;
    // Nothing else runs in this throwaway database; a crash mid-load is a failed run anyway.
    tx.batch_execute("SET LOCAL synchronous_commit = off")?;
    let mut w = tx.copy_in(
        "COPY appointments (id, reference, name, phone, phone_tail, id_type, id_number, \
         id_tail, wallet_operator, lock_cause, slot_start, slot_end, slot_day, notes, status, \
         case_id) FROM STDIN",
    )?;
    let mut buf = String::with_capacity(1 << 20);
    for i in 0..rows {
        let a = synthetic(&mut rng, "GEN", i, today);
        // COPY's text format: tab-separated, `\N` for NULL; no generated field holds a tab,
        // newline or backslash.
        buf.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t\\N\n",
            a.id.0,
            a.reference,
            a.name,
            a.phone,
            tail4(&a.phone),
            a.id_type.as_str(),
            a.id_number,
            tail4(&a.id_number),
            a.wallet_operator,
            a.lock_cause.as_str(),
            a.slot_start.format("%Y-%m-%d %H:%M:%S"),
            a.slot_end.format("%Y-%m-%d %H:%M:%S"),
            a.slot_start.date(),
            a.notes,
            a.status.as_str(),
        ));
        if buf.len() > (1 << 20) - 4096 {
            w.write_all(buf.as_bytes())?;
            buf.clear();
        }
        if i % every == 0 {
            picked.push(a);
        }
    }
    w.write_all(buf.as_bytes())?;
    w.finish()?;
    tx.commit()?;
    // The planner's statistics and the visibility map, as autovacuum would leave a book that
    // has been in use for a while (an index-only scan needs the map).
    db.batch_execute("VACUUM (ANALYZE) appointments")?;
    Ok(picked)
}
