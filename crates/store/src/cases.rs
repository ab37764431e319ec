//! Cases: the JSON document beside its indexed search columns, version-checked writes.

use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension};
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::sql_err;
use crate::tx::Tx;

impl CaseRead for Tx<'_> {
    fn case(&mut self, id: CaseId) -> CoreResult<Option<Case>> {
        let s: Option<String> = self
            .q_row(
                "SELECT data FROM cases WHERE id = ?1",
                params![id.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_err)?;
        s.map(|s| from_json(&s, "case")).transpose()
    }

    fn list_cases(&mut self, q: &CaseQuery, _tz: &str) -> CoreResult<Vec<CaseSummary>> {
        let mut sql = String::from(
            "SELECT id, case_number, state, customer_name, data, lock_cause, opened_at, updated_at, opened_by FROM cases WHERE 1 = 1",
        );
        let mut args: Vec<String> = Vec::new();
        if let Some(d) = q.day {
            args.push(d.to_string());
            sql.push_str(&format!(" AND opened_day = ?{}", args.len()));
        }
        if let Some(s) = q.state {
            args.push(s.as_str().to_string());
            sql.push_str(&format!(" AND state = ?{}", args.len()));
        }
        if let Some(n) = &q.case_number {
            args.push(n.trim().to_ascii_uppercase());
            sql.push_str(&format!(" AND case_number = ?{}", args.len()));
        }
        if let Some(p) = &q.name_prefix {
            args.push(p.clone());
            let i = args.len();
            args.push(format!("{p}\u{10FFFF}"));
            sql.push_str(&format!(
                " AND customer_name >= ?{i} AND customer_name < ?{}",
                args.len()
            ));
        }
        if let Some(t) = &q.tail4 {
            args.push(t.to_ascii_uppercase());
            let i = args.len();
            sql.push_str(&format!(" AND (id_tail = ?{i} OR phone_tail = ?{i})"));
        }
        sql.push_str(&format!(
            " ORDER BY opened_at DESC LIMIT {}",
            q.limit.unwrap_or(500).min(5000)
        ));
        let mut st = self.tx.prepare(&sql).map_err(sql_err)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok((
                    r.get::<_, String>("id")?,
                    r.get::<_, String>("case_number")?,
                    r.get::<_, String>("state")?,
                    r.get::<_, String>("customer_name")?,
                    r.get::<_, String>("data")?,
                    r.get::<_, Option<String>>("lock_cause")?,
                    r.get::<_, String>("opened_at")?,
                    r.get::<_, String>("updated_at")?,
                    r.get::<_, String>("opened_by")?,
                ))
            })
            .map_err(sql_err)?;
        let mut out = Vec::new();
        for r in rows {
            let (id, num, state, name, data, lock, opened, updated, by) = r.map_err(sql_err)?;
            let case: Case = from_json(&data, "case")?;
            out.push(CaseSummary {
                id: CaseId::parse(&id)?,
                case_number: num,
                state: state.parse()?,
                customer_name: name,
                phone_masked: unlockdesk_core::masking::phone(&case.phone),
                lock_cause: lock.map(|l| l.parse()).transpose()?,
                opened_at: parse_ts(&opened)?,
                updated_at: parse_ts(&updated)?,
                opened_by: StaffId::parse(&by)?,
                appointment_id: case.appointment_id,
            });
        }
        Ok(out)
    }

    fn count_cases(&mut self) -> CoreResult<i64> {
        self.q_row("SELECT COUNT(*) FROM cases", [], |r| r.get(0))
            .map_err(sql_err)
    }
}

impl CaseWrite for Tx<'_> {
    fn insert_case(&mut self, c: &Case) -> CoreResult<()> {
        let (id_tail, phone_tail, day) = self.case_columns(c)?;
        self
            .exec(
                "INSERT INTO cases (id, case_number, state, version, appointment_id, customer_name, id_tail, phone_tail, lock_cause, opened_by, opened_at, opened_day, updated_at, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    c.id.to_string(),
                    c.case_number,
                    c.state.as_str(),
                    c.version,
                    c.appointment_id.map(|a| a.to_string()),
                    c.customer_name,
                    id_tail,
                    phone_tail,
                    c.lock_cause.map(|l| l.as_str()),
                    c.opened_by.as_str(),
                    ts(c.opened_at),
                    day,
                    ts(c.updated_at),
                    json(c)?
                ],
            )
            .map_err(sql_err)?;
        Ok(())
    }

    fn update_case(&mut self, c: &Case, expected_version: i64) -> CoreResult<()> {
        let (id_tail, phone_tail) = case_tails(c);
        let data = json(c)?;
        // SQLite rewrites an index entry whenever its column is in the SET list, even with
        // the same value, and every dirtied page is written to the WAL and synced. Most steps
        // change none of the indexed columns, so set only those that changed: a step then
        // writes the case's table page, not four more index pages (benches/transitions.rs).
        let current: Option<(String, String, String, String)> = self
            .tx
            .prepare_cached(
                "SELECT state, customer_name, id_tail, phone_tail FROM cases WHERE id = ?1 AND version = ?2",
            )
            .and_then(|mut st| {
                st.query_row(params![c.id.to_string(), expected_version], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()
            })
            .map_err(sql_err)?;
        let Some((state, name, cur_id_tail, cur_phone_tail)) = current else {
            return Err(CoreError::conflict(format!(
                "case {} was changed by someone else (already decided?); reload it",
                c.case_number
            )));
        };
        let mut sql = String::from(
            "UPDATE cases SET version = ?3, lock_cause = ?7, updated_at = ?8, data = ?9",
        );
        if state != c.state.as_str() {
            sql.push_str(", state = ?2");
        }
        if name != c.customer_name {
            sql.push_str(", customer_name = ?4");
        }
        if cur_id_tail != id_tail {
            sql.push_str(", id_tail = ?5");
        }
        if cur_phone_tail != phone_tail {
            sql.push_str(", phone_tail = ?6");
        }
        sql.push_str(" WHERE id = ?1 AND version = ?10");
        let n = self
            .tx
            .prepare_cached(&sql)
            .and_then(|mut st| {
                st.execute(params![
                    c.id.to_string(),
                    c.state.as_str(),
                    c.version,
                    c.customer_name,
                    id_tail,
                    phone_tail,
                    c.lock_cause.map(|l| l.as_str()),
                    ts(c.updated_at),
                    data,
                    expected_version
                ])
            })
            .map_err(sql_err)?;
        if n == 0 {
            return Err(CoreError::conflict(format!(
                "case {} was changed by someone else (already decided?); reload it",
                c.case_number
            )));
        }
        Ok(())
    }

    fn next_case_seq(&mut self, day: NaiveDate) -> CoreResult<u32> {
        let n: i64 = self
            .q_row(
                "INSERT INTO case_seq (day, last) VALUES (?1, 1) ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last",
                params![day.to_string()],
                |r| r.get(0),
            )
            .map_err(sql_err)?;
        Ok(n as u32)
    }
}
