//! The appointment book: lookups through the indexes of migration 0001 (each an equality on a
//! `(key, slot_start)` index read in slot order with a LIMIT), and the importer's bulk writes.

use chrono::{NaiveDate, NaiveDateTime};
use postgres::error::SqlState;
use postgres::types::ToSql;
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::pg_err;
use crate::tx::Tx;

/// Name prefixes up to this many characters have their own expression index in slot order
/// (migrations 0001 and 0003).
const NAME_PREFIX_MAX: usize = 4;
/// Rows per `INSERT … SELECT FROM unnest(…)` of an import: one round trip per batch.
const IMPORT_BATCH: usize = 1_000;

/// Where one lookup reads: `cond` over `$1` (the teller's value) and, when `aux` is given, `$2`.
struct Lookup {
    cond: String,
    aux: Option<String>,
    /// `$1` is this full C2 value (`phone` or `id_number`): looked up by its keyed hash when
    /// the store's fields are encrypted.
    member: Option<&'static str>,
}

impl Lookup {
    fn column(c: &str) -> Self {
        Lookup {
            cond: format!("{c} = $1"),
            aux: None,
            member: None,
        }
    }
    /// A full number through its last-4 index, which carries the number.
    fn full_by_tail(tail: &str, full: &'static str, value: &str) -> Self {
        Lookup {
            cond: format!("{tail} = $2 AND {full} = $1"),
            aux: Some(tail4(value)),
            member: Some(full),
        }
    }
    fn name_prefix(chars: usize) -> Self {
        Lookup {
            cond: format!("left(name, {chars}) = $1"),
            aux: None,
            member: None,
        }
    }
    /// Names longer than a prefix of 5+ characters: a range on `(name, slot_start)`.
    fn name_longer(value: &str) -> Self {
        Lookup {
            cond: "name > $1 AND name < $2".into(),
            aux: Some(format!("{value}\u{10FFFF}")),
            member: None,
        }
    }
    fn next(&self) -> usize {
        if self.aux.is_some() {
            3
        } else {
            2
        }
    }
    /// Today's matches by slot: `slot_start` in [`$n`, `$n+1`), at most `$n+2`.
    fn today_sql(&self) -> String {
        let n = self.next();
        format!(
            "SELECT {APPT_COLS} FROM appointments WHERE {} AND slot_start >= ${n} AND slot_start < ${} ORDER BY slot_start LIMIT ${}",
            self.cond,
            n + 1,
            n + 2
        )
    }
    /// Every match, newest first, at most `$n`.
    fn rest_sql(&self) -> String {
        format!(
            "SELECT {APPT_COLS} FROM appointments WHERE {} ORDER BY slot_start DESC LIMIT ${}",
            self.cond,
            self.next()
        )
    }
}

impl AppointmentRead for Tx<'_, '_> {
    fn appointment(&mut self, id: AppointmentId) -> CoreResult<Option<Appointment>> {
        self.query_opt(
            &format!("SELECT {APPT_COLS} FROM appointments WHERE id = $1"),
            &[&id.0],
        )?
        .map(|r| self.appt(&r))
        .transpose()
    }

    fn appointment_by_reference(&mut self, reference: &str) -> CoreResult<Option<Appointment>> {
        self.query_opt(
            &format!("SELECT {APPT_COLS} FROM appointments WHERE reference = $1"),
            &[&reference],
        )?
        .map(|r| self.appt(&r))
        .transpose()
    }

    fn appointments_on(&mut self, day: NaiveDate) -> CoreResult<Vec<Appointment>> {
        self.query(
            &format!(
                "SELECT {APPT_COLS} FROM appointments WHERE slot_day = $1 ORDER BY slot_start, reference"
            ),
            &[&day],
        )?
        .iter()
        .map(|r| self.appt(r))
        .collect()
    }

    fn find_appointments(
        &mut self,
        key: &AppointmentKey,
        today: NaiveDate,
        limit: u32,
    ) -> CoreResult<Vec<Appointment>> {
        let limit = limit.clamp(1, 200) as usize;
        let t0 = today.and_hms_opt(0, 0, 0).unwrap_or_default();
        let t1 = today
            .succ_opt()
            .unwrap_or(today)
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default();
        let sources: Vec<(Lookup, &String)> = match key {
            AppointmentKey::Reference(r) => vec![
                (Lookup::column("reference"), r),
                (Lookup::full_by_tail("id_tail", "id_number", r), r),
            ],
            AppointmentKey::Phone(p) => vec![
                (Lookup::full_by_tail("phone_tail", "phone", p), p),
                (Lookup::column("reference"), p),
            ],
            AppointmentKey::PhoneTail(t) => vec![
                (Lookup::column("phone_tail"), t),
                (Lookup::column("id_tail"), t),
            ],
            AppointmentKey::IdNumber(n) => vec![
                (Lookup::full_by_tail("id_tail", "id_number", n), n),
                (Lookup::column("reference"), n),
            ],
            AppointmentKey::IdTail(t) => vec![(Lookup::column("id_tail"), t)],
            AppointmentKey::NamePrefix(p) if p.chars().count() <= NAME_PREFIX_MAX => {
                vec![(Lookup::name_prefix(p.chars().count().max(1)), p)]
            }
            // Longer text: the exact name in slot order, plus the (rare) longer names.
            AppointmentKey::NamePrefix(p) => {
                vec![(Lookup::column("name"), p), (Lookup::name_longer(p), p)]
            }
        };
        let mut todays: Vec<Appointment> = Vec::new();
        let mut others: Vec<Appointment> = Vec::new();
        for (lookup, value) in &sources {
            let hashed = lookup.member.map(|m| self.lookup_value(m, value));
            let first: &(dyn ToSql + Sync) = match &hashed {
                Some(h) => h,
                None => *value,
            };
            let mut params = vec![first];
            if let Some(aux) = &lookup.aux {
                params.push(aux);
            }
            let n = limit as i64;
            let mut today_params = params.clone();
            let bounds: [&(dyn ToSql + Sync); 3] = [&t0, &t1, &n];
            today_params.extend(bounds);
            let found = self.query(&lookup.today_sql(), &today_params)?;
            let n_rest = (limit + found.len()) as i64;
            for r in &found {
                todays.push(self.appt(r)?);
            }
            params.push(&n_rest);
            for r in &self.query(&lookup.rest_sql(), &params)? {
                others.push(self.appt(r)?);
            }
        }
        let order = |a: &Appointment| (a.slot_start, a.reference.clone());
        todays.sort_by_key(order);
        others.sort_by_key(|a| std::cmp::Reverse(order(a)));
        let mut seen = std::collections::HashSet::new();
        let out = todays
            .into_iter()
            .chain(
                others
                    .into_iter()
                    .filter(|a| a.slot_start < t0 || a.slot_start >= t1),
            )
            .filter(|a| seen.insert(a.id))
            .take(limit)
            .collect();
        Ok(out)
    }

    fn appointments_by_references(
        &mut self,
        references: &[String],
    ) -> CoreResult<Vec<Appointment>> {
        self.query(
            &format!("SELECT {APPT_COLS} FROM appointments WHERE reference = ANY($1)"),
            &[&references],
        )?
        .iter()
        .map(|r| self.appt(r))
        .collect()
    }
}

fn insert_error(e: postgres::Error) -> CoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        let detail = e
            .as_db_error()
            .and_then(|d| d.detail())
            .unwrap_or("a reference is already in the book");
        return CoreError::conflict(format!("appointment exists: {detail}"));
    }
    pg_err(e)
}

impl AppointmentWrite for Tx<'_, '_> {
    fn insert_appointment(&mut self, a: &Appointment) -> CoreResult<()> {
        self.insert_appointments(std::slice::from_ref(a))
    }

    fn update_appointment(&mut self, a: &Appointment) -> CoreResult<()> {
        let (phone, id_number, sealed) = self.appt_columns(a)?;
        let n = self.execute(
            "UPDATE appointments SET reference = $2, name = $3, phone = $4, id_type = $5, \
             id_number = $6, wallet_operator = $7, lock_cause = $8, slot_start = $9, \
             slot_end = $10, notes = $11, status = $12, case_id = $13, phone_tail = $14, \
             id_tail = $15, slot_day = $16, sealed = $17 WHERE id = $1",
            &[
                &a.id.0,
                &a.reference,
                &a.name,
                &phone,
                &a.id_type.as_str(),
                &id_number,
                &a.wallet_operator,
                &a.lock_cause.as_str(),
                &slot(&a.slot_start),
                &slot(&a.slot_end),
                &a.notes,
                &a.status.as_str(),
                &a.case_id.map(|c| c.0),
                &tail4(&a.phone),
                &tail4(&a.id_number),
                &a.slot_start.date(),
                &sealed,
            ],
        )?;
        if n == 0 {
            return Err(CoreError::not_found(format!("appointment {}", a.reference)));
        }
        // A booked case keeps a copy of the booking's operator until its form names one
        // (0004_case_browser.sql): a re-import that changes the operator must follow it there,
        // or the operator filter finds the case under the old name. `->>` gives NULL for a
        // form that is absent or JSON null alike.
        if let Some(case_id) = a.case_id {
            self.execute(
                "UPDATE cases SET wallet_operator = $3 WHERE id = $1 AND appointment_id = $2 \
                 AND wallet_operator <> $3 AND data ->> 'form' IS NULL",
                &[&case_id.0, &a.id.0, &a.wallet_operator],
            )?;
        }
        Ok(())
    }

    fn insert_appointments(&mut self, list: &[Appointment]) -> CoreResult<()> {
        // One statement per batch of rows (arrays unnested server-side): an import of 100,000
        // rows is a hundred round trips, not a hundred thousand.
        for chunk in list.chunks(IMPORT_BATCH) {
            let ids: Vec<uuid::Uuid> = chunk.iter().map(|a| a.id.0).collect();
            let text = |f: &dyn Fn(&Appointment) -> String| -> Vec<String> {
                chunk.iter().map(f).collect()
            };
            let reference = text(&|a| a.reference.clone());
            let name = text(&|a| a.name.clone());
            let mut phone = Vec::with_capacity(chunk.len());
            let mut id_number = Vec::with_capacity(chunk.len());
            let mut sealed: Vec<Option<String>> = Vec::with_capacity(chunk.len());
            for a in chunk {
                let (p, i, s) = self.appt_columns(a)?;
                phone.push(p);
                id_number.push(i);
                sealed.push(s);
            }
            let id_type = text(&|a| a.id_type.as_str().to_string());
            let wallet = text(&|a| a.wallet_operator.clone());
            let cause = text(&|a| a.lock_cause.as_str().to_string());
            let starts: Vec<NaiveDateTime> = chunk.iter().map(|a| slot(&a.slot_start)).collect();
            let ends: Vec<NaiveDateTime> = chunk.iter().map(|a| slot(&a.slot_end)).collect();
            let notes = text(&|a| a.notes.clone());
            let status = text(&|a| a.status.as_str().to_string());
            let case_ids: Vec<Option<uuid::Uuid>> =
                chunk.iter().map(|a| a.case_id.map(|c| c.0)).collect();
            let phone_tail = text(&|a| tail4(&a.phone));
            let id_tail = text(&|a| tail4(&a.id_number));
            let days: Vec<NaiveDate> = chunk.iter().map(|a| a.slot_start.date()).collect();
            self.execute_raw(
                "INSERT INTO appointments (id, reference, name, phone, id_type, id_number, \
                 wallet_operator, lock_cause, slot_start, slot_end, notes, status, case_id, \
                 phone_tail, id_tail, slot_day, sealed) \
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], \
                 $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamp[], \
                 $10::timestamp[], $11::text[], $12::text[], $13::uuid[], $14::text[], \
                 $15::text[], $16::date[], $17::text[])",
                &[
                    &ids,
                    &reference,
                    &name,
                    &phone,
                    &id_type,
                    &id_number,
                    &wallet,
                    &cause,
                    &starts,
                    &ends,
                    &notes,
                    &status,
                    &case_ids,
                    &phone_tail,
                    &id_tail,
                    &days,
                    &sealed,
                ],
            )
            .map_err(insert_error)?;
        }
        Ok(())
    }

    fn mark_no_shows(&mut self, day: NaiveDate) -> CoreResult<u32> {
        let n = self.execute(
            "UPDATE appointments SET status = 'no-show' WHERE slot_day = $1 AND status = 'waiting'",
            &[&day],
        )?;
        Ok(n as u32)
    }
}
