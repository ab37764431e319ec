//! The appointment book: lookups through the indexes of migrations 0002 and 0004, and the
//! importer's bulk writes.

use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension};
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::sql_err;
use crate::tx::Tx;

impl AppointmentRead for Tx<'_> {
    fn appointment(&mut self, id: AppointmentId) -> CoreResult<Option<Appointment>> {
        self.q_row(
            &format!("SELECT {APPT_COLS} FROM appointments WHERE id = ?1"),
            params![id.to_string()],
            appt_row,
        )
        .optional()
        .map_err(sql_err)?
        .map(to_appt)
        .transpose()
    }

    fn appointment_by_reference(&mut self, reference: &str) -> CoreResult<Option<Appointment>> {
        self.q_row(
            &format!("SELECT {APPT_COLS} FROM appointments WHERE reference = ?1"),
            params![reference],
            appt_row,
        )
        .optional()
        .map_err(sql_err)?
        .map(to_appt)
        .transpose()
    }

    fn appointments_on(&mut self, day: NaiveDate) -> CoreResult<Vec<Appointment>> {
        let mut st = self
            .tx
            .prepare(&format!("SELECT {APPT_COLS} FROM appointments WHERE slot_day = ?1 ORDER BY slot_start, reference"))
            .map_err(sql_err)?;
        let rows = st
            .query_map(params![day.to_string()], appt_row)
            .map_err(sql_err)?;
        rows.map(|r| r.map_err(sql_err).and_then(to_appt)).collect()
    }

    fn find_appointments(
        &mut self,
        key: &AppointmentKey,
        today: NaiveDate,
        limit: u32,
    ) -> CoreResult<Vec<Appointment>> {
        // Each key is one or two equality lookups on a (key, slot_start) index (migration
        // 0002): today's matches by slot, then the rest newest first, each read in index
        // order with a LIMIT, so no large candidate set is ever sorted.
        let limit = limit.clamp(1, 200) as usize;
        let t0 = format!("{today}T00:00");
        let t1 = format!("{}T00:00", today.succ_opt().unwrap_or(today));
        let sources: Vec<(Lookup, String)> = match key {
            AppointmentKey::Reference(r) => vec![
                (Lookup::Column("reference"), r.clone()),
                (Lookup::FullByTail("id_tail", "id_number"), r.clone()),
            ],
            AppointmentKey::Phone(p) => vec![
                (Lookup::FullByTail("phone_tail", "phone"), p.clone()),
                (Lookup::Column("reference"), p.clone()),
            ],
            AppointmentKey::PhoneTail(t) => vec![
                (Lookup::Column("phone_tail"), t.clone()),
                (Lookup::Column("id_tail"), t.clone()),
            ],
            AppointmentKey::IdNumber(n) => vec![
                (Lookup::FullByTail("id_tail", "id_number"), n.clone()),
                (Lookup::Column("reference"), n.clone()),
            ],
            AppointmentKey::IdTail(t) => vec![(Lookup::Column("id_tail"), t.clone())],
            AppointmentKey::NamePrefix(p) if p.chars().count() <= NAME_PREFIX_MAX => {
                vec![(Lookup::NamePrefix, p.clone())]
            }
            // Longer text: the exact name in slot order, plus the (rare) longer names.
            AppointmentKey::NamePrefix(p) => vec![
                (Lookup::Column("name"), p.clone()),
                (Lookup::NameLonger, p.clone()),
            ],
        };
        let mut todays: Vec<(String, i64)> = Vec::new();
        let mut others: Vec<(String, i64)> = Vec::new();
        for (lookup, value) in &sources {
            let (today_sql, rest_sql) = lookup.sql();
            let mut st = self.tx.prepare_cached(&today_sql).map_err(sql_err)?;
            let found: Vec<(String, i64)> = st
                .query_map(
                    params![value, t0, t1, limit as i64, range_end(value)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(sql_err)?
                .collect::<Result<_, _>>()
                .map_err(sql_err)?;
            let n_today = found.len();
            todays.extend(found);
            let mut st = self.tx.prepare_cached(&rest_sql).map_err(sql_err)?;
            let rows = st
                .query_map(
                    params![value, t0, t1, (limit + n_today) as i64, range_end(value)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(sql_err)?;
            for r in rows {
                others.push(r.map_err(sql_err)?);
            }
        }
        todays.sort();
        others.sort_by(|a, b| b.cmp(a));
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        let mut st = self
            .tx
            .prepare_cached(&format!(
                "SELECT {APPT_COLS} FROM appointments WHERE rowid = ?1"
            ))
            .map_err(sql_err)?;
        for (slot, rowid) in todays
            .into_iter()
            .chain(others.into_iter().filter(|(s, _)| *s < t0 || *s >= t1))
        {
            if out.len() >= limit {
                break;
            }
            if !seen.insert(rowid) {
                continue;
            }
            let Some(a) = st
                .query_row(params![rowid], appt_row)
                .optional()
                .map_err(sql_err)?
            else {
                continue;
            };
            let a = to_appt(a)?;
            // The prefix table points at rowids: re-check, so a stale entry is never shown.
            if let AppointmentKey::NamePrefix(p) = key {
                if !a.name.starts_with(p.as_str()) || a.slot_start.format(SLOT).to_string() != slot
                {
                    continue;
                }
            }
            out.push(a);
        }
        Ok(out)
    }
    fn appointments_by_references(
        &mut self,
        references: &[String],
    ) -> CoreResult<Vec<Appointment>> {
        let mut st = self
            .tx
            .prepare_cached(&format!(
                "SELECT {APPT_COLS} FROM appointments WHERE reference = ?1"
            ))
            .map_err(sql_err)?;
        let mut out = Vec::new();
        for r in references {
            if let Some(row) = st
                .query_row(params![r], appt_row)
                .optional()
                .map_err(sql_err)?
            {
                out.push(to_appt(row)?);
            }
        }
        Ok(out)
    }
}

impl AppointmentWrite for Tx<'_> {
    fn insert_appointment(&mut self, a: &Appointment) -> CoreResult<()> {
        self.insert_appointment_rows(std::slice::from_ref(a))
    }

    fn update_appointment(&mut self, a: &Appointment) -> CoreResult<()> {
        let n = self
            .exec(
                "UPDATE appointments SET reference = ?2, name = ?3, phone = ?4, id_type = ?5, id_number = ?6, wallet_operator = ?7, lock_cause = ?8,
                 slot_start = ?9, slot_end = ?10, notes = ?11, status = ?12, case_id = ?13, phone_tail = ?14, id_tail = ?15, slot_day = ?16 WHERE id = ?1",
                rusqlite::params_from_iter(appointment_params(a).iter()),
            )
            .map_err(sql_err)?;
        if n == 0 {
            return Err(CoreError::not_found(format!("appointment {}", a.reference)));
        }
        // A booked case keeps a copy of the booking's operator until its form names one
        // (0006_case_browser.sql): a re-import that changes the operator must follow it there,
        // or the operator filter finds the case under the old name. Only a changed value is
        // written (SQLite rewrites the cases_operator entry whenever the column is set).
        if let Some(case_id) = a.case_id {
            self.exec(
                "UPDATE cases SET wallet_operator = ?3 WHERE id = ?1 AND appointment_id = ?2
                 AND wallet_operator <> ?3 AND json_extract(data, '$.form') IS NULL",
                params![case_id.to_string(), a.id.to_string(), a.wallet_operator],
            )
            .map_err(sql_err)?;
        }
        Ok(())
    }

    fn insert_appointments(&mut self, list: &[Appointment]) -> CoreResult<()> {
        // A big file touches nearly every page of the eight lookup indexes (their keys are
        // random). With the normal cache, dirty pages spill to the WAL again and again; a
        // cache large enough for the indexes writes each page once, at commit. The memory is
        // used only as pages are touched and given back when the size is restored.
        let big = list.len() >= BIG_IMPORT_ROWS;
        if big {
            self.tx
                .pragma_update(None, "cache_size", BIG_IMPORT_CACHE_KIB)
                .map_err(sql_err)?;
        }
        let res = self.insert_appointment_rows(list);
        if big {
            self.tx
                .pragma_update(None, "cache_size", crate::CACHE_KIB)
                .map_err(sql_err)?;
        }
        res
    }

    fn mark_no_shows(&mut self, day: NaiveDate) -> CoreResult<u32> {
        let n = self
            .exec("UPDATE appointments SET status = 'no-show' WHERE slot_day = ?1 AND status = 'waiting'", params![day.to_string()])
            .map_err(sql_err)?;
        Ok(n as u32)
    }
}
