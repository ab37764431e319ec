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
    /// [`Tx::lock_head`] when a write transaction begins, advanced by each append.
    pub head: Option<(i64, String)>,
}

impl<'a, 'c> Tx<'a, 'c> {
    pub(crate) fn new(
        tx: &'a mut Transaction<'c>,
        stmts: &'a mut HashMap<String, Statement>,
    ) -> Self {
        Tx {
            tx,
            stmts,
            head: None,
        }
    }

    /// Lock the audit chain's head row and remember it (see the crate docs: every write
    /// transaction takes this lock first, so writers are serialised and never deadlock each
    /// other). No row leaves `head` empty; the first append then reports the damage.
    pub(crate) fn lock_head(&mut self) -> Result<(), postgres::Error> {
        let st = self.stmt(crate::audit::HEAD_LOCK)?;
        self.head = self
            .tx
            .query_opt(&st, &[])?
            .map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1)));
        Ok(())
    }

    /// The prepared statement for `sql`, prepared once per connection: a step's dozen
    /// statements then cost one round trip each instead of two (parse, then bind).
    pub(crate) fn stmt(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
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
