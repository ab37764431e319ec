//! Cases: the `jsonb` document beside its indexed search columns, version-checked writes.

use chrono::NaiveDate;
use postgres::types::ToSql;
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::tx::Tx;

fn changed_by_someone_else(c: &Case) -> CoreError {
    CoreError::conflict(format!(
        "case {} was changed by someone else (already decided?); reload it",
        c.case_number
    ))
}

impl CaseRead for Tx<'_, '_> {
    fn case(&mut self, id: CaseId) -> CoreResult<Option<Case>> {
        self.query_opt("SELECT data FROM cases WHERE id = $1", &[&id.0])?
            .map(|r| self.case_of(col(&r, "data")?))
            .transpose()
    }

    fn list_cases(&mut self, q: &CaseQuery, _tz: &str) -> CoreResult<Vec<CaseSummary>> {
        let mut sql = String::from(
            "SELECT id, case_number, state, customer_name, data, lock_cause, opened_at, opened_day, updated_at, opened_by, wallet_operator FROM cases WHERE true",
        );
        let mut args: Vec<Box<dyn ToSql + Sync>> = Vec::new();
        if let Some(d) = q.day {
            args.push(Box::new(d));
            sql.push_str(&format!(" AND opened_day = ${}", args.len()));
        }
        if let Some(d) = q.from {
            args.push(Box::new(d));
            sql.push_str(&format!(" AND opened_day >= ${}", args.len()));
        }
        if let Some(d) = q.to {
            args.push(Box::new(d));
            sql.push_str(&format!(" AND opened_day <= ${}", args.len()));
        }
        if !q.states.is_empty() {
            // One array parameter: one prepared statement whatever the number of states.
            let states: Vec<String> = q.states.iter().map(|s| s.as_str().to_string()).collect();
            args.push(Box::new(states));
            sql.push_str(&format!(" AND state = ANY(${})", args.len()));
        }
        if let Some(t) = &q.opened_by {
            args.push(Box::new(t.clone()));
            sql.push_str(&format!(" AND opened_by = ${}", args.len()));
        }
        if let Some(o) = &q.wallet_operator {
            args.push(Box::new(o.clone()));
            sql.push_str(&format!(" AND wallet_operator = ${}", args.len()));
        }
        if let Some(n) = &q.case_number {
            args.push(Box::new(n.trim().to_ascii_uppercase()));
            sql.push_str(&format!(" AND case_number = ${}", args.len()));
        }
        if let Some(p) = &q.name_prefix {
            args.push(Box::new(p.clone()));
            let i = args.len();
            args.push(Box::new(format!("{p}\u{10FFFF}")));
            sql.push_str(&format!(
                " AND customer_name >= ${i} AND customer_name < ${}",
                args.len()
            ));
        }
        if let Some(t) = &q.tail4 {
            args.push(Box::new(t.to_ascii_uppercase()));
            let i = args.len();
            sql.push_str(&format!(" AND (id_tail = ${i} OR phone_tail = ${i})"));
        }
        if let Some(a) = &q.after {
            // A row comparison: PostgreSQL seeks the (opened_day, opened_at, case_number)
            // index to it.
            args.push(Box::new(a.opened_day));
            args.push(Box::new(a.opened_at));
            args.push(Box::new(a.case_number.clone()));
            let n = args.len();
            sql.push_str(&format!(
                " AND (opened_day, opened_at, case_number) < (${}, ${}, ${n})",
                n - 2,
                n - 1
            ));
        }
        // The limit is a parameter: the connection caches one prepared statement per filter
        // combination, not one per limit. Newest first in the order of the cases_day_time
        // index, so a page stops the index walk after its rows.
        args.push(Box::new(i64::from(q.limit.unwrap_or(500).min(5000))));
        sql.push_str(&format!(
            " ORDER BY opened_day DESC, opened_at DESC, case_number DESC LIMIT ${}",
            args.len()
        ));
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a.as_ref()).collect();
        let rows = self.query(&sql, &params)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let case: Case = self.case_of(col(r, "data")?)?;
            out.push(CaseSummary {
                id: CaseId(col(r, "id")?),
                case_number: col(r, "case_number")?,
                state: col::<String>(r, "state")?.parse()?,
                customer_name: col(r, "customer_name")?,
                phone_masked: unlockdesk_core::masking::phone(&case.phone),
                lock_cause: col::<Option<String>>(r, "lock_cause")?
                    .map(|l| l.parse())
                    .transpose()?,
                opened_at: col(r, "opened_at")?,
                opened_day: col(r, "opened_day")?,
                updated_at: col(r, "updated_at")?,
                opened_by: StaffId::parse(&col::<String>(r, "opened_by")?)?,
                appointment_id: case.appointment_id,
                wallet_operator: col(r, "wallet_operator")?,
                open_from_earlier_day: false,
            });
        }
        Ok(out)
    }

    fn case_operators(&mut self) -> CoreResult<Vec<String>> {
        let rows = self.query(
            "SELECT DISTINCT wallet_operator FROM cases WHERE wallet_operator <> '' ORDER BY wallet_operator",
            &[],
        )?;
        rows.iter().map(|r| col(r, "wallet_operator")).collect()
    }

    fn count_cases(&mut self) -> CoreResult<i64> {
        col(
            &self.query_one("SELECT count(*) AS n FROM cases", &[])?,
            "n",
        )
    }
}

impl CaseWrite for Tx<'_, '_> {
    fn insert_case(&mut self, c: &Case) -> CoreResult<()> {
        let (id_tail, phone_tail) = case_tails(c);
        let day = c.opened_at.with_timezone(&self.branch_tz()?).date_naive();
        self.execute(
            "INSERT INTO cases (id, case_number, state, version, appointment_id, customer_name, id_tail, phone_tail, lock_cause, opened_by, opened_at, opened_day, updated_at, data, wallet_operator)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                     COALESCE($15, (SELECT wallet_operator FROM appointments WHERE id = $5), ''))",
            &[
                &c.id.0,
                &c.case_number,
                &c.state.as_str(),
                &c.version,
                &c.appointment_id.map(|a| a.0),
                &c.customer_name,
                &id_tail,
                &phone_tail,
                &c.lock_cause.map(|l| l.as_str()),
                &c.opened_by.as_str(),
                &c.opened_at,
                &day,
                &c.updated_at,
                &self.case_doc(c)?,
                &form_operator(c),
            ],
        )?;
        Ok(())
    }

    fn update_case(&mut self, c: &Case, expected_version: i64) -> CoreResult<()> {
        let (id_tail, phone_tail) = case_tails(c);
        // The version check is the statement's own condition: a concurrent writer's commit is
        // re-checked by PostgreSQL before this row is updated, so two decisions on one case
        // give one update and one `conflict`. (Index entries are rewritten only for changed
        // columns: PostgreSQL's HOT update compares values, whatever the SET list says.)
        let n = self.execute(
            "UPDATE cases SET state = $2, version = $3, customer_name = $4, id_tail = $5, phone_tail = $6,
             lock_cause = $7, updated_at = $8, data = $9,
             wallet_operator = COALESCE($11, wallet_operator) WHERE id = $1 AND version = $10",
            &[
                &c.id.0,
                &c.state.as_str(),
                &c.version,
                &c.customer_name,
                &id_tail,
                &phone_tail,
                &c.lock_cause.map(|l| l.as_str()),
                &c.updated_at,
                &self.case_doc(c)?,
                &expected_version,
                &form_operator(c),
            ],
        )?;
        if n == 0 {
            return Err(changed_by_someone_else(c));
        }
        Ok(())
    }

    fn next_case_seq(&mut self, day: NaiveDate) -> CoreResult<u32> {
        let r = self.query_one(
            "INSERT INTO case_seq (day, last) VALUES ($1, 1) ON CONFLICT (day) DO UPDATE SET last = case_seq.last + 1 RETURNING last",
            &[&day],
        )?;
        Ok(col::<i32>(&r, "last")?.max(0) as u32)
    }
}
