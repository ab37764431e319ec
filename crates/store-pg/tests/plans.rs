//! The appointment lookups of the PostgreSQL store read an index, never the whole table
//! (issue 13 item 4): in a book large enough for the planner to prefer indexes, the plan of
//! every statement each lookup runs has no `Seq Scan on appointments`. The plans are printed
//! (`-- --nocapture`) and kept in docs/postgres-benchmarks.md.
//!
//! The plans are those of the store's own statements as it runs them, not of copies of its
//! SQL that could drift from src/appointments.rs: the store's sessions load PostgreSQL's
//! `auto_explain` module (startup options of the store's configuration), which sends the
//! plan of every statement they run to the client as a NOTICE; the configuration's notice
//! callback collects them. Two passes: the planner's own choice (custom plans at first, then
//! possibly a generic one: the store prepares each statement once per connection, and
//! PostgreSQL considers a generic plan from a prepared statement's sixth execution), and
//! `plan_cache_mode = force_generic_plan`, the plan a long-lived branch-server connection may
//! settle on whatever the values looked up.
//!
//! Run with `scripts/with-postgres.sh cargo test -p unlockdesk-store-pg --test plans`. Every
//! person in the book is synthetic.

#[path = "../benches/book/mod.rs"]
mod book;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use unlockdesk_core::ports::{AppointmentKey, Store};
use unlockdesk_core::Appointment;
use unlockdesk_store_pg::PgStore;

/// Rows in the book (`UD_PLANS_BOOK` overrides): enough that reading the whole table costs the
/// planner far more than an index, as it does in a branch's book.
const BOOK_ROWS: u64 = 50_000;
/// Lookups per key kind and pass: more than five, so the plan cache's generic plan is tried.
const RUNS: usize = 8;

type KeyOf = fn(&Appointment) -> AppointmentKey;

/// Every key kind of `AppointmentKey`, as the counter's search box makes them.
const KINDS: &[(&str, KeyOf)] = &[
    ("reference", |a| {
        AppointmentKey::Reference(a.reference.clone())
    }),
    ("phone (11 digits)", |a| {
        AppointmentKey::Phone(a.phone.clone())
    }),
    ("ID number (18)", |a| {
        AppointmentKey::IdNumber(a.id_number.clone())
    }),
    ("last 4 (phone or ID)", |a| {
        AppointmentKey::PhoneTail(a.phone[a.phone.len() - 4..].to_string())
    }),
    ("ID last 4 (IdTail)", |a| {
        AppointmentKey::IdTail(a.id_number[a.id_number.len() - 4..].to_string())
    }),
    ("name (full)", |a| {
        AppointmentKey::NamePrefix(a.name.clone())
    }),
    ("name prefix (1 char)", |a| {
        AppointmentKey::NamePrefix(a.name.chars().take(1).collect())
    }),
    ("name prefix (2 chars)", |a| {
        AppointmentKey::NamePrefix(a.name.chars().take(2).collect())
    }),
    ("name prefix (3 chars)", |a| {
        AppointmentKey::NamePrefix(a.name.chars().take(3).collect())
    }),
];

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// A new database on the test cluster, dropped when the test ends (pass or fail).
struct Db {
    base: postgres::Config,
    name: String,
}

impl Db {
    fn create() -> Self {
        let url = std::env::var("UNLOCKDESK_DATABASE_URL").unwrap_or_default();
        assert!(
            !url.is_empty(),
            "UNLOCKDESK_DATABASE_URL is not set: run these tests through \
             scripts/with-postgres.sh (it starts a throwaway PostgreSQL and sets it), e.g. \
             `scripts/with-postgres.sh cargo test -p unlockdesk-store-pg --test plans`"
        );
        let base: postgres::Config = url
            .parse()
            .expect("UNLOCKDESK_DATABASE_URL is not a PostgreSQL URL");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "ud_plans_{}_{}_{nanos}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed)
        );
        base.connect(postgres::NoTls)
            .expect("connect to the test cluster")
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        Db { base, name }
    }

    fn config(&self) -> postgres::Config {
        let mut c = self.base.clone();
        c.dbname(&self.name);
        c
    }

    /// The store, its sessions explaining every statement they run into `plans`.
    fn explaining_store(&self, plans: &Arc<Mutex<Vec<String>>>, generic: bool) -> PgStore {
        let mut c = self.config();
        // session_preload_libraries may be set at connection start by a superuser only: the
        // test cluster's URL names one. log_analyze adds the rows each node really read.
        let mut options = "-c session_preload_libraries=auto_explain \
             -c auto_explain.log_min_duration=0 -c auto_explain.log_level=notice \
             -c auto_explain.log_analyze=on -c auto_explain.log_timing=off"
            .to_string();
        if generic {
            options.push_str(" -c plan_cache_mode=force_generic_plan");
        }
        c.options(&options);
        let sink = plans.clone();
        c.notice_callback(move |n| {
            if n.message().contains("plan:") {
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(n.message().to_string());
            }
        });
        PgStore::open_config(c).expect("open the store")
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Ok(mut admin) = self.base.connect(postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// One explained statement: its SQL and its plan (auto_explain's "Query Text:" line, then
/// the plan's lines).
fn split(notice: &str) -> (String, String) {
    let body = notice.split_once("plan:").map(|x| x.1).unwrap_or(notice);
    let mut sql = String::new();
    let mut plan = Vec::new();
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        match line.strip_prefix("Query Text: ") {
            Some(q) => sql = q.trim().to_string(),
            None => plan.push(line),
        }
    }
    (sql, plan.join("\n"))
}

/// The plan without what changes from one execution to the next (numbers, literal values),
/// so equal plans are printed once.
fn shape(plan: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for ch in plan.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                out.push(ch);
            }
            _ if quoted => {}
            '0'..='9' => {
                if !out.ends_with('#') {
                    out.push('#');
                }
            }
            _ => out.push(ch),
        }
    }
    out
}

fn pass_name(generic: bool) -> &'static str {
    if generic {
        "force_generic_plan"
    } else {
        "planner's choice"
    }
}

/// `plan` with every quoted literal longer than 60 characters cut short (the importer's
/// array of references would fill a page).
fn abbreviate(plan: &str) -> String {
    let mut out = String::new();
    for (i, part) in plan.split('\'').enumerate() {
        if i > 0 {
            out.push('\'');
        }
        // Odd parts are inside quotes.
        if i % 2 == 1 && part.chars().count() > 60 {
            out.extend(part.chars().take(40));
            out.push('…');
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Every statement seen, in the order first seen: which lookups ran it, and its distinct
/// plans in each pass with how often each was used.
#[derive(Default)]
struct Seen {
    order: Vec<String>,
    by_sql: BTreeMap<String, Statement>,
    /// Lookups that ran a statement reading the whole table.
    scans: Vec<String>,
}

#[derive(Default)]
struct Statement {
    used_by: Vec<String>,
    /// (generic pass?, shape) -> (the first plan of that shape, executions).
    plans: BTreeMap<(bool, String), (String, usize)>,
}

impl Seen {
    /// File the plans captured since the last call under `lookup`.
    fn take(&mut self, plans: &Mutex<Vec<String>>, generic: bool, lookup: &str) {
        let pass = pass_name(generic);
        let notices = std::mem::take(&mut *plans.lock().unwrap_or_else(|p| p.into_inner()));
        let mut any = false;
        for n in notices {
            let (sql, plan) = split(&n);
            if !sql.contains("appointments") {
                continue;
            }
            any = true;
            if plan.contains("Seq Scan on appointments") {
                self.scans.push(format!("{pass}, {lookup}: {sql}"));
            }
            if !self.by_sql.contains_key(&sql) {
                self.order.push(sql.clone());
            }
            let st = self.by_sql.entry(sql).or_default();
            if !st.used_by.iter().any(|u| u == lookup) {
                st.used_by.push(lookup.to_string());
            }
            st.plans
                .entry((generic, shape(&plan)))
                .or_insert((plan, 0))
                .1 += 1;
        }
        // A lookup whose plans were not captured would pass the check below unseen.
        assert!(
            any,
            "{pass}, {lookup}: no plan was captured (is auto_explain installed on the cluster?)"
        );
    }

    /// Markdown: each statement, the lookups that run it, its plans per pass.
    fn print(&self) {
        for sql in &self.order {
            let st = &self.by_sql[sql];
            println!("\n#### {}\n\n```sql\n{sql}\n```\n", st.used_by.join(", "));
            for ((generic, _), (plan, n)) in &st.plans {
                let pass = pass_name(*generic);
                let plan = abbreviate(plan);
                println!("{pass}, used {n}x:\n\n```text\n{plan}\n```\n");
            }
        }
    }
}

#[test]
fn every_appointment_lookup_reads_an_index() {
    let db = Db::create();
    let today = NaiveDate::from_ymd_opt(2026, 11, 29).expect("a date");
    let plans = Arc::new(Mutex::new(Vec::new()));
    // The schema first, then the book, then its statistics (copy_book ends with VACUUM
    // ANALYZE).
    drop(db.explaining_store(&plans, false));
    let samples = {
        let mut admin = db.config().connect(postgres::NoTls).expect("connect");
        let rows = std::env::var("UD_PLANS_BOOK")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(BOOK_ROWS);
        book::copy_book(&mut admin, rows, today, 200).expect("load the book")
    };
    let mut seen = Seen::default();
    for generic in [false, true] {
        let store = db.explaining_store(&plans, generic);
        plans.lock().unwrap_or_else(|p| p.into_inner()).clear();
        for (label, key_of) in KINDS {
            for a in samples.iter().step_by(7).take(RUNS) {
                let key = key_of(a);
                let found = store
                    .read(|tx| tx.find_appointments(&key, today, 20))
                    .expect("lookup");
                assert!(
                    found.iter().any(|f| f.id == a.id) || found.len() == 20,
                    "{label}: {} not found by {key:?}",
                    a.reference
                );
            }
            seen.take(&plans, generic, label);
        }
        // A 3-character prefix of longer names (司马子 of 司马子涵): its own index in slot order
        // since migration 0003 (before, a range on (name, slot_start) and a sort of every match).
        let longer = samples.iter().filter(|a| a.name.chars().count() > 3);
        for a in longer.take(RUNS) {
            let key = AppointmentKey::NamePrefix(a.name.chars().take(3).collect());
            let found = store
                .read(|tx| tx.find_appointments(&key, today, 20))
                .expect("lookup");
            assert!(found.iter().any(|f| f.id == a.id) || found.len() == 20);
        }
        seen.take(
            &plans,
            generic,
            "name prefix (3 chars of a 4-character name)",
        );
        // The book's other reads: one reference (check-in), a day's list (today's table),
        // the import's look-up of the references it is given.
        let refs: Vec<String> = samples.iter().map(|a| a.reference.clone()).collect();
        for _ in 0..RUNS {
            store
                .read(|tx| tx.appointment_by_reference(&samples[3].reference))
                .expect("by reference");
        }
        seen.take(&plans, generic, "appointment_by_reference");
        for _ in 0..RUNS {
            store
                .read(|tx| tx.appointments_on(today))
                .expect("a day's list");
        }
        seen.take(&plans, generic, "appointments_on (today)");
        for _ in 0..RUNS {
            let got = store
                .read(|tx| tx.appointments_by_references(&refs))
                .expect("by references");
            assert_eq!(got.len(), refs.len());
        }
        seen.take(
            &plans,
            generic,
            "appointments_by_references (200 references)",
        );
    }
    seen.print();
    assert!(
        seen.scans.is_empty(),
        "these lookups read the whole appointments table:\n{}",
        seen.scans.join("\n")
    );
}
