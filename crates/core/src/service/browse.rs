//! Case lists: today's table, the search box's results and the past-case browser, one page at
//! a time, each row flagged when it was left open from an earlier day.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};

use super::Service;
use crate::dto::{CaseFilters, CasePage, CaseTeller};
use crate::error::{CoreError, CoreResult};
use crate::model::*;
use crate::permissions::{self, Action};
use crate::ports::*;

/// Rows per page when the query names no limit.
pub const CASE_PAGE_DEFAULT: u32 = 100;
/// The most rows one page may hold.
pub const CASE_PAGE_MAX: u32 = 500;
/// The longest date range one query may span, in days (first and last day included): a year,
/// leap day included. A branch's browser reads one page of it at a time; a wider question is a
/// report, not a screen.
pub const CASE_RANGE_MAX_DAYS: i64 = 366;
/// The longest wallet operator a form accepts (crate::form), so the longest worth looking up.
const OPERATOR_MAX_CHARS: usize = 60;

impl<S: Store> Service<S> {
    /// One page of cases matching `q` (masked summaries), newest first, each flagged when it
    /// was left open from an earlier day; the names of their openers beside it.
    ///
    /// Errors: `forbidden`; `invalid` with field `day` (rule `invalid`: given with `from` or
    /// `to`), `from` (`required` when only `to` is given; `span` when the range is longer than
    /// [`CASE_RANGE_MAX_DAYS`]), `to` (`range-order`: before `from`), `opened_by` (`format`),
    /// `wallet_operator` (`too-long`), `limit` (`range`: 0 or above [`CASE_PAGE_MAX`]).
    pub(crate) fn list_cases(&self, actor: &Actor, q: &CaseQuery) -> CoreResult<CasePage> {
        self.permit(actor, Action::ViewCases, None)?;
        let branch = self.branch()?;
        let today = branch.local_date(self.now());
        let Some(store_q) = store_query(q, today)? else {
            return Ok(empty_page(today));
        };
        let limit = store_q.limit.unwrap_or(CASE_PAGE_DEFAULT);
        let (mut cases, staff) = self.store.read(|tx| {
            // One row more than the page: whether there is a next page, without counting.
            let cases = tx.list_cases(
                &CaseQuery {
                    limit: Some(limit + 1),
                    ..store_q.clone()
                },
                &branch.time_zone,
            )?;
            let openers: BTreeSet<&str> = cases.iter().map(|c| c.opened_by.as_str()).collect();
            let staff: BTreeMap<String, String> = tx
                .list_staff()?
                .into_iter()
                .filter(|s| openers.contains(s.id.as_str()))
                .map(|s| (s.id.as_str().to_owned(), s.name))
                .collect();
            Ok((cases, staff))
        })?;
        let more = cases.len() > limit as usize;
        cases.truncate(limit as usize);
        for c in &mut cases {
            c.open_from_earlier_day = left_open(c.opened_day, c.state, today);
        }
        Ok(CasePage {
            next: more.then(|| cases.last().map(CaseCursor::after)).flatten(),
            more,
            cases,
            today,
            staff,
        })
    }

    /// The choices of the teller and operator filters: staff whose role may open cases
    /// (disabled accounts too: their cases stay on record) and every operator on a case.
    /// Errors: `forbidden`.
    pub(crate) fn case_filters(&self, actor: &Actor) -> CoreResult<CaseFilters> {
        self.permit(actor, Action::ViewCases, None)?;
        let today = self.today()?;
        let (staff, operators) = self
            .store
            .read(|tx| Ok((tx.list_staff()?, tx.case_operators()?)))?;
        let mut tellers: Vec<CaseTeller> = staff
            .into_iter()
            .filter(|s| permissions::allows(s.role, Action::OpenCase))
            .map(|s| CaseTeller {
                id: s.id,
                name: s.name,
                disabled: s.disabled,
            })
            .collect();
        tellers.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(CaseFilters {
            today,
            tellers,
            operators,
        })
    }
}

/// Opened on a day before `today` and not in a terminal state (no event leaves one: closed,
/// cancelled, rejected, refused): a case the branch left behind.
pub fn left_open(opened_day: NaiveDate, state: CaseState, today: NaiveDate) -> bool {
    opened_day < today && !state.is_terminal()
}

fn empty_page(today: NaiveDate) -> CasePage {
    CasePage {
        cases: Vec::new(),
        more: false,
        next: None,
        today,
        staff: BTreeMap::new(),
    }
}

/// The query a store runs for `q` at `today`: checked, the day range made explicit, the
/// teller's id canonical, "left open from an earlier day" turned into a range and states.
/// `None` when nothing can match (left open, but the range holds only today or later).
fn store_query(q: &CaseQuery, today: NaiveDate) -> CoreResult<Option<CaseQuery>> {
    let mut out = q.clone();
    if q.day.is_some() && (q.from.is_some() || q.to.is_some()) {
        return Err(CoreError::field(
            "day",
            "invalid",
            "give one day or a range (from, to), not both",
        ));
    }
    if let Some(d) = q.day {
        (out.from, out.to, out.day) = (Some(d), Some(d), None);
    }
    match (out.from, out.to) {
        (None, Some(_)) => {
            return Err(CoreError::field(
                "from",
                "required",
                "give the first day of the range",
            ))
        }
        (Some(_), None) => out.to = Some(today.max(out.from.unwrap_or(today))),
        _ => {}
    }
    if let (Some(from), Some(to)) = (out.from, out.to) {
        if to < from {
            return Err(CoreError::field(
                "to",
                "range-order",
                format!("the last day {to} is before the first day {from}"),
            ));
        }
        if (to - from).num_days() + 1 > CASE_RANGE_MAX_DAYS {
            return Err(CoreError::field(
                "from",
                "span",
                format!("a range spans at most {CASE_RANGE_MAX_DAYS} days: narrow it"),
            ));
        }
    }
    if let Some(limit) = q.limit {
        if limit == 0 || limit > CASE_PAGE_MAX {
            return Err(CoreError::field(
                "limit",
                "range",
                format!("rows per page: 1 to {CASE_PAGE_MAX}"),
            ));
        }
    }
    out.opened_by = match q.opened_by.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(
            StaffId::parse(raw)
                .map_err(|e| CoreError::field("opened_by", "format", e.message))?
                .as_str()
                .to_owned(),
        ),
    };
    out.wallet_operator = match q.wallet_operator.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(op) if op.chars().count() > OPERATOR_MAX_CHARS => {
            return Err(CoreError::field(
                "wallet_operator",
                "too-long",
                format!("a wallet operator has at most {OPERATOR_MAX_CHARS} characters"),
            ))
        }
        Some(op) => Some(op.to_owned()),
    };
    let mut states: Vec<CaseState> = q
        .states
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if q.open_from_earlier_day {
        let yesterday = today - Duration::days(1);
        out.to = Some(out.to.map_or(yesterday, |t| t.min(yesterday)));
        if out.from.is_some_and(|f| Some(f) > out.to) {
            return Ok(None);
        }
        let open = |s: &CaseState| !s.is_terminal();
        states = if states.is_empty() {
            CaseState::ALL.iter().copied().filter(open).collect()
        } else {
            states.into_iter().filter(open).collect()
        };
        if states.is_empty() {
            return Ok(None);
        }
        out.open_from_earlier_day = false;
    }
    out.states = states;
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn field(q: &CaseQuery) -> (String, String) {
        let e = store_query(q, d("2026-11-29")).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::Invalid, "{e:?}");
        (e.fields[0].field.clone(), e.fields[0].rule.clone())
    }

    #[test]
    fn a_range_is_checked_and_made_explicit() {
        let q = |from: &str, to: Option<&str>| CaseQuery {
            from: Some(d(from)),
            to: to.map(d),
            ..Default::default()
        };
        assert_eq!(
            field(&q("2026-11-02", Some("2026-11-01"))),
            ("to".into(), "range-order".into())
        );
        // 2025-11-29 ..= 2026-11-29 is 366 days (first and last included): it passes, 367 do not.
        assert!(store_query(&q("2025-11-29", Some("2026-11-29")), d("2026-11-29")).is_ok());
        assert_eq!(
            field(&q("2025-11-28", Some("2026-11-29"))),
            ("from".into(), "span".into())
        );
        let only_from = store_query(&q("2026-11-01", None), d("2026-11-29"))
            .unwrap()
            .unwrap();
        assert_eq!(only_from.to, Some(d("2026-11-29")), "to defaults to today");
        let only_to = CaseQuery {
            to: Some(d("2026-11-01")),
            ..Default::default()
        };
        assert_eq!(field(&only_to), ("from".into(), "required".into()));
        let both = CaseQuery {
            day: Some(d("2026-11-01")),
            from: Some(d("2026-11-01")),
            ..Default::default()
        };
        assert_eq!(field(&both), ("day".into(), "invalid".into()));
        let day = store_query(
            &CaseQuery {
                day: Some(d("2026-11-03")),
                ..Default::default()
            },
            d("2026-11-29"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (day.day, day.from, day.to),
            (None, Some(d("2026-11-03")), Some(d("2026-11-03")))
        );
    }

    #[test]
    fn teller_operator_and_limit_are_checked() {
        let teller = |t: &str| CaseQuery {
            opened_by: Some(t.into()),
            ..Default::default()
        };
        let canonical = store_query(&teller(" ＴＥＬ01 "), d("2026-11-29"))
            .unwrap()
            .unwrap();
        assert_eq!(canonical.opened_by.as_deref(), Some("tel01"));
        assert_eq!(
            field(&teller("柜员")),
            ("opened_by".into(), "format".into())
        );
        let blank = store_query(&teller("  "), d("2026-11-29"))
            .unwrap()
            .unwrap();
        assert_eq!(blank.opened_by, None, "a blank teller is no filter");
        let long = CaseQuery {
            wallet_operator: Some("运".repeat(61)),
            ..Default::default()
        };
        assert_eq!(field(&long), ("wallet_operator".into(), "too-long".into()));
        for bad in [0, CASE_PAGE_MAX + 1] {
            let q = CaseQuery {
                limit: Some(bad),
                ..Default::default()
            };
            assert_eq!(field(&q), ("limit".into(), "range".into()));
        }
    }

    #[test]
    fn a_query_from_json_names_the_field_of_a_bad_value() {
        let ok = CaseQuery::from_json(serde_json::json!({
            "from": "2026-11-01", "states": ["submitted", "returned-for-info"], "limit": 50
        }))
        .unwrap();
        assert_eq!(ok.from, Some(d("2026-11-01")));
        assert_eq!(
            ok.states,
            vec![CaseState::Submitted, CaseState::ReturnedForInfo]
        );
        let rule = |v: serde_json::Value| {
            let e = CaseQuery::from_json(v).unwrap_err();
            assert_eq!(e.code, crate::ErrorCode::Invalid, "{e:?}");
            (e.fields[0].field.clone(), e.fields[0].rule.clone())
        };
        let q = serde_json::json!({ "from": "2026-11-01", "states": ["submitted", "lost"] });
        assert_eq!(rule(q), ("states".into(), "one-of".into()));
        let q = serde_json::json!({ "from": "2026-02-30", "states": [] });
        assert_eq!(rule(q), ("from".into(), "format".into()));
        assert_eq!(
            rule(serde_json::json!([1])),
            ("query".into(), "format".into())
        );
    }

    #[test]
    fn left_open_is_a_range_before_today_and_the_open_states() {
        let today = d("2026-11-29");
        let q = CaseQuery {
            from: Some(d("2026-11-01")),
            open_from_earlier_day: true,
            ..Default::default()
        };
        let s = store_query(&q, today).unwrap().unwrap();
        assert_eq!(s.to, Some(d("2026-11-28")));
        assert!(!s.open_from_earlier_day);
        assert!(s.states.iter().all(|st| !st.is_terminal()));
        assert!(
            s.states.contains(&CaseState::Unlocked),
            "unlocked is not closed yet"
        );
        assert!(!s.states.contains(&CaseState::Closed));
        // Only terminal states asked for, or a range of today only: nothing can match.
        let closed = CaseQuery {
            states: vec![CaseState::Closed, CaseState::Cancelled],
            ..q.clone()
        };
        assert_eq!(store_query(&closed, today).unwrap(), None);
        let today_only = CaseQuery {
            from: Some(today),
            ..q.clone()
        };
        assert_eq!(store_query(&today_only, today).unwrap(), None);
        // The flag itself.
        assert!(left_open(d("2026-11-28"), CaseState::FormSigned, today));
        assert!(left_open(d("2026-11-28"), CaseState::Unlocked, today));
        assert!(!left_open(d("2026-11-28"), CaseState::Closed, today));
        assert!(!left_open(
            d("2026-11-28"),
            CaseState::RefusedIdentity,
            today
        ));
        assert!(!left_open(today, CaseState::CheckedIn, today));
    }
}
