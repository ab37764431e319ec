//! [`Tx`]: one PostgreSQL transaction (`postgres::Transaction`) and the connection's statement
//! cache, the handle every port of the store is implemented on (one module per aggregate:
//! `branch`, `staff`, `cases`, `appointments`, `audit`, `idempotency`, `documents`,
//! `sessions`). A read snapshot hands it out as `&mut dyn ReadTx`, so reads cannot reach the
//! write methods.

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Row, Statement, Transaction};
use unlockdesk_core::ports::BranchRead;
use unlockdesk_core::CoreResult;

use crate::pg_err;

/// The parameters of one statement.
pub(crate) type Params<'p> = [&'p (dyn ToSql + Sync)];

pub(crate) struct Tx<'a, 'c> {
    pub tx: &'a mut Transaction<'c>,
    stmts: &'a mut HashMap<String, Statement>,
    /// The audit chain's head (seq, hash) as locked by this transaction: read by
    /// [`Tx::lock_head`] when a write transaction begins (an optimistic one: at its first
    /// write), advanced by each append.
    pub head: Option<(i64, String)>,
    /// The field keys when the store's C2 values are encrypted ([`crate::fields`]).
    pub keys: Option<&'a crate::fields::FieldKeys>,
    /// The head lock is still to be taken: a [`unlockdesk_core::ports::Store::transact_optimistic`]
    /// transaction before its first write (or lock, or audit append).
    lock_pending: bool,
    /// Set by [`Tx::lock_head`] in a store opened without the branch key when the branch's
    /// personal data has been encrypted since (another server got the key): such a
    /// transaction must not commit, or it would write values in clear beside sealed ones.
    pub encrypted_since_open: bool,
}

/// Whether `sql` may write or lock rows: anything but a plain `SELECT` (a `SELECT … FOR
/// UPDATE`/`FOR NO KEY UPDATE`/`FOR SHARE`/`FOR KEY SHARE` locks rows, which must happen after
/// the head lock so that writers never deadlock each other). Case and spacing do not matter.
fn writes(sql: &str) -> bool {
    // Runs before every statement of a transaction whose lock is pending: no allocation.
    let mut words = sql.split_whitespace();
    if !words
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("SELECT"))
    {
        return true;
    }
    let mut after_for = false;
    for w in words {
        if after_for
            && ["UPDATE", "SHARE", "NO", "KEY"]
                .iter()
                .any(|k| w.eq_ignore_ascii_case(k))
        {
            return true;
        }
        after_for = w.eq_ignore_ascii_case("FOR");
    }
    false
}

impl<'a, 'c> Tx<'a, 'c> {
    pub(crate) fn new(
        tx: &'a mut Transaction<'c>,
        stmts: &'a mut HashMap<String, Statement>,
        keys: Option<&'a crate::fields::FieldKeys>,
    ) -> Self {
        Tx {
            tx,
            stmts,
            head: None,
            keys,
            lock_pending: false,
            encrypted_since_open: false,
        }
    }

    /// A write transaction whose head lock waits for its first write (see
    /// [`Tx::serialise`]).
    pub(crate) fn lock_at_first_write(&mut self) {
        self.lock_pending = true;
    }

    /// Take the head lock now if this transaction has not yet (an optimistic one before its
    /// first write): everything from here on is serialised with the other writers.
    pub(crate) fn serialise(&mut self) -> CoreResult<()> {
        if self.lock_pending {
            self.lock_head().map_err(pg_err)?;
        }
        if self.encrypted_since_open {
            return Err(crate::encrypted_since_open());
        }
        Ok(())
    }

    /// A case as stored: its C2 members sealed when the store has keys.
    pub(crate) fn case_doc(&self, c: &unlockdesk_core::Case) -> CoreResult<serde_json::Value> {
        let mut v = crate::codec::to_jsonb(c)?;
        if let Some(k) = self.keys {
            k.seal_json(&format!("case/{}", c.id), &mut v)?;
        }
        Ok(v)
    }

    /// A stored case document as a case (sealed members opened).
    pub(crate) fn case_of(&self, mut v: serde_json::Value) -> CoreResult<unlockdesk_core::Case> {
        if let Some(k) = self.keys {
            let owner = format!("case/{}", v["id"].as_str().unwrap_or_default());
            k.open_json(&owner, &mut v)?;
        }
        crate::codec::from_jsonb(v, "case")
    }

    /// An appointments row (`APPT_COLS`) as an appointment, its C2 values opened.
    pub(crate) fn appt(&self, r: &Row) -> CoreResult<unlockdesk_core::Appointment> {
        let mut a = crate::codec::to_appt(r)?;
        let sealed: Option<String> = crate::codec::col(r, "sealed")?;
        match (sealed, self.keys) {
            (Some(s), Some(k)) => {
                (a.phone, a.id_number) = crate::fields::open_appointment(k, a.id.0, &s)?;
            }
            (Some(_), None) => {
                return Err(unlockdesk_core::CoreError::storage(
                    "the appointment is encrypted but the store was opened without the branch key",
                ))
            }
            _ => {}
        }
        Ok(a)
    }

    /// The lookup form of a full C2 value (`member` = `phone` or `id_number`): the keyed hash
    /// when the store has keys, the value itself otherwise.
    pub(crate) fn lookup_value(&self, member: &str, value: &str) -> String {
        match self.keys {
            Some(k) => k.lookup(member, value),
            None => value.to_string(),
        }
    }

    /// An appointment's stored `phone`, `id_number` and `sealed` columns.
    pub(crate) fn appt_columns(
        &self,
        a: &unlockdesk_core::Appointment,
    ) -> CoreResult<(String, String, Option<String>)> {
        match self.keys {
            Some(k) => {
                let (p, i, s) =
                    crate::fields::appointment_columns(k, a.id.0, &a.phone, &a.id_number)?;
                Ok((p, i, Some(s)))
            }
            None => Ok((a.phone.clone(), a.id_number.clone(), None)),
        }
    }

    /// Lock the audit chain's head row and remember it (see the crate docs: every write
    /// transaction takes this lock before it writes or locks any row, so writers are serialised
    /// and never deadlock each other). No row leaves `head` empty; the first append then
    /// reports the damage.
    ///
    /// A store opened without the branch key then checks that nobody has encrypted the
    /// branch's personal data since ([`Tx::encrypted_since_open`]): after the lock, because the
    /// encryption itself runs under it.
    pub(crate) fn lock_head(&mut self) -> Result<(), postgres::Error> {
        self.lock_pending = false;
        let st = self.stmt(crate::audit::HEAD_LOCK)?;
        self.head = self
            .tx
            .query_opt(&st, &[])?
            .map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1)));
        if self.keys.is_none() {
            let st = self.stmt("SELECT EXISTS (SELECT 1 FROM key_record) AS e")?;
            self.encrypted_since_open = self.tx.query_one(&st, &[])?.get(0);
        }
        Ok(())
    }

    /// The prepared statement for `sql`, prepared once per connection: a step's dozen
    /// statements then cost one round trip each instead of two (parse, then bind).
    ///
    /// In a transaction whose head lock is still pending, a statement that writes or locks
    /// rows takes the head lock first.
    pub(crate) fn stmt(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if self.lock_pending && writes(sql) {
            self.lock_head()?;
            if self.encrypted_since_open {
                // The write must not run at all (an aborted row still reaches the data files
                // and the WAL): the database refuses the rest of this transaction, and the
                // store reports why ([`crate::encrypted_since_open`]).
                self.tx.batch_execute(
                    "DO $$ BEGIN RAISE EXCEPTION 'the branch database''s personal data is now \
                     encrypted and this server has no key' USING ERRCODE = 'P0001'; END $$",
                )?;
            }
        }
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.tx.prepare(sql)?;
        self.stmts.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    pub(crate) fn query_raw(
        &mut self,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<Vec<Row>, postgres::Error> {
        let st = self.stmt(sql)?;
        self.tx.query(&st, params)
    }

    pub(crate) fn query(&mut self, sql: &str, params: &Params<'_>) -> CoreResult<Vec<Row>> {
        self.query_raw(sql, params).map_err(pg_err)
    }

    pub(crate) fn query_opt(&mut self, sql: &str, params: &Params<'_>) -> CoreResult<Option<Row>> {
        let st = self.stmt(sql).map_err(pg_err)?;
        self.tx.query_opt(&st, params).map_err(pg_err)
    }

    pub(crate) fn query_one(&mut self, sql: &str, params: &Params<'_>) -> CoreResult<Row> {
        let st = self.stmt(sql).map_err(pg_err)?;
        self.tx.query_one(&st, params).map_err(pg_err)
    }

    pub(crate) fn execute_raw(
        &mut self,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<u64, postgres::Error> {
        let st = self.stmt(sql)?;
        self.tx.execute(&st, params)
    }

    pub(crate) fn execute(&mut self, sql: &str, params: &Params<'_>) -> CoreResult<u64> {
        self.execute_raw(sql, params).map_err(pg_err)
    }

    /// The branch's zone (Asia/Shanghai before set-up), for the branch-local day columns.
    pub(crate) fn branch_tz(&mut self) -> CoreResult<chrono_tz::Tz> {
        Ok(BranchRead::branch(self)?
            .map(|b| b.tz())
            .unwrap_or(chrono_tz::Asia::Shanghai))
    }
}

#[cfg(test)]
mod tests {
    use super::writes;

    #[test]
    fn only_a_plain_select_runs_before_the_head_lock() {
        for plain in [
            "SELECT data FROM cases WHERE id = $1",
            "  select seq, hash\n FROM audit_events ORDER BY seq",
            "SELECT format, force FROM t WHERE before_for = 1",
        ] {
            assert!(!writes(plain), "{plain}");
        }
        for locking in [
            "INSERT INTO cases (id) VALUES ($1)",
            " update cases SET state = $2",
            "DELETE FROM t",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE",
            "select 1 from t for\tshare",
            "SELECT 1 FROM t\nFOR NO KEY UPDATE",
            "SELECT 1 FROM t For Key Share",
            "",
        ] {
            assert!(writes(locking), "{locking}");
        }
    }
}
