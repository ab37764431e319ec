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
            "SELECT id, case_number, state, customer_name, data, lock_cause, opened_at, opened_day, updated_at, opened_by, wallet_operator FROM cases WHERE 1 = 1",
        );
        let mut args: Vec<String> = Vec::new();
        if let Some(d) = q.day {
            args.push(d.to_string());
            sql.push_str(&format!(" AND opened_day = ?{}", args.len()));
        }
        // YYYY-MM-DD sorts as text.
        if let Some(d) = q.from {
            args.push(d.to_string());
            sql.push_str(&format!(" AND opened_day >= ?{}", args.len()));
        }
        if let Some(d) = q.to {
            args.push(d.to_string());
            sql.push_str(&format!(" AND opened_day <= ?{}", args.len()));
        }
        if !q.states.is_empty() {
            let first = args.len() + 1;
            args.extend(q.states.iter().map(|s| s.as_str().to_string()));
            let marks: Vec<String> = (first..=args.len()).map(|i| format!("?{i}")).collect();
            sql.push_str(&format!(" AND state IN ({})", marks.join(", ")));
        }
        if let Some(t) = &q.opened_by {
            args.push(t.clone());
            sql.push_str(&format!(" AND opened_by = ?{}", args.len()));
        }
        if let Some(o) = &q.wallet_operator {
            args.push(o.clone());
            sql.push_str(&format!(" AND wallet_operator = ?{}", args.len()));
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
        if let Some(a) = &q.after {
            // A row value: SQLite seeks the (opened_day, opened_at, case_number) index to it.
            // Instants are stored in one fixed-width UTC format, so text order is time order.
            args.extend([
                a.opened_day.to_string(),
                ts(a.opened_at),
                a.case_number.clone(),
            ]);
            let n = args.len();
            sql.push_str(&format!(
                " AND (opened_day, opened_at, case_number) < (?{}, ?{}, ?{n})",
                n - 2,
                n - 1
            ));
        }
        // Newest first, in the order of the cases_day_time index: no sort, and a LIMIT stops
        // the walk after one page however long the range.
        sql.push_str(&format!(
            " ORDER BY opened_day DESC, opened_at DESC, case_number DESC LIMIT {}",
            q.limit.unwrap_or(500).min(5000)
        ));
        let mut st = self.tx.prepare(&sql).map_err(sql_err)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok((
                    (
                        r.get::<_, String>("id")?,
                        r.get::<_, String>("case_number")?,
                        r.get::<_, String>("state")?,
                        r.get::<_, String>("customer_name")?,
                        r.get::<_, String>("data")?,
                        r.get::<_, Option<String>>("lock_cause")?,
                    ),
                    (
                        r.get::<_, String>("opened_at")?,
                        r.get::<_, String>("opened_day")?,
                        r.get::<_, String>("updated_at")?,
                        r.get::<_, String>("opened_by")?,
                        r.get::<_, String>("wallet_operator")?,
                    ),
                ))
            })
            .map_err(sql_err)?;
        let mut out = Vec::new();
        for r in rows {
            let ((id, num, state, name, data, lock), (opened, day, updated, by, operator)) =
                r.map_err(sql_err)?;
            let case: Case = from_json(&data, "case")?;
            out.push(CaseSummary {
                id: CaseId::parse(&id)?,
                case_number: num,
                state: state.parse()?,
                customer_name: name,
                phone_masked: unlockdesk_core::masking::phone(&case.phone),
                lock_cause: lock.map(|l| l.parse()).transpose()?,
                opened_at: parse_ts(&opened)?,
                opened_day: day.parse().map_err(|_| {
                    CoreError::storage(format!("stored opening day '{day}' is not a date"))
                })?,
                updated_at: parse_ts(&updated)?,
                opened_by: StaffId::parse(&by)?,
                appointment_id: case.appointment_id,
                wallet_operator: operator,
                open_from_earlier_day: false,
            });
        }
        Ok(out)
    }

    fn case_operators(&mut self) -> CoreResult<Vec<String>> {
        // Read from the cases_operator index alone (a covering scan, no table rows).
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT DISTINCT wallet_operator FROM cases WHERE wallet_operator <> '' ORDER BY wallet_operator",
            )
            .map_err(sql_err)?;
        let rows = st.query_map([], |r| r.get(0)).map_err(sql_err)?;
        rows.collect::<Result<Vec<String>, _>>().map_err(sql_err)
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
                "INSERT INTO cases (id, case_number, state, version, appointment_id, customer_name, id_tail, phone_tail, lock_cause, opened_by, opened_at, opened_day, updated_at, data, wallet_operator)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                         COALESCE(?15, (SELECT wallet_operator FROM appointments WHERE id = ?5), ''))",
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
                    json(c)?,
                    form_operator(c)
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
        let current: Option<(String, String, String, String, String)> = self
            .tx
            .prepare_cached(
                "SELECT state, customer_name, id_tail, phone_tail, wallet_operator FROM cases WHERE id = ?1 AND version = ?2",
            )
            .and_then(|mut st| {
                st.query_row(params![c.id.to_string(), expected_version], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()
            })
            .map_err(sql_err)?;
        let Some((state, name, cur_id_tail, cur_phone_tail, cur_operator)) = current else {
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
        // The recorded form's operator replaces the booking's (cases_operator index).
        let operator = form_operator(c).filter(|o| *o != cur_operator);
        if operator.is_some() {
            sql.push_str(", wallet_operator = ?11");
        }
        sql.push_str(" WHERE id = ?1 AND version = ?10");
        let (id, new_state, updated, lock) = (
            c.id.to_string(),
            c.state.as_str(),
            ts(c.updated_at),
            c.lock_cause.map(|l| l.as_str()),
        );
        let mut args: Vec<&dyn rusqlite::ToSql> = vec![
            &id,
            &new_state,
            &c.version,
            &c.customer_name,
            &id_tail,
            &phone_tail,
            &lock,
            &updated,
            &data,
            &expected_version,
        ];
        // SQLite counts parameters up to the highest number used: ?11 only when it is.
        if let Some(o) = &operator {
            args.push(o);
        }
        let n = self
            .tx
            .prepare_cached(&sql)
            .and_then(|mut st| st.execute(args.as_slice()))
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
