//! `retention`: the dry run of a purge, destruction batches prepared by one person and
//! approved by another, the destruction register and legal holds; `audit export` and
//! `audit reveals` for the auditor.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use unlockdesk_core::auditor::{AuditFilter, RetentionReport, RevealRecord};
use unlockdesk_core::{CoreError, PurgeBatch};

use crate::out::Out;
use crate::{Ctx, Fail, Res};

#[derive(Subcommand, Debug)]
pub enum RetentionCmd {
    /// What is due for destruction today, per case and record class (`case`: the case with
    /// its identity copy; `voucher`: printed forms, receipts, scans), and what a legal hold
    /// keeps (admin, auditor). Only with --dry-run: a purge is prepared by one person
    /// (`retention prepare`) and approved by another (`retention approve --batch ID`).
    Purge {
        /// List only; nothing is changed.
        #[arg(long)]
        dry_run: bool,
    },
    /// Prepare a destruction batch of everything due and not held (the first person).
    Prepare,
    /// Approve a prepared batch and destroy it (the second person: not the preparer, and the
    /// other of administrator and auditor).
    Approve {
        /// The batch id (`DR-…`).
        #[arg(long, value_name = "ID")]
        batch: String,
    },
    /// Withdraw a prepared batch; nothing is destroyed.
    Withdraw {
        /// The batch id (`DR-…`).
        #[arg(long, value_name = "ID")]
        batch: String,
        /// Why (4-500 characters).
        #[arg(long)]
        reason: String,
    },
    /// The destruction register: every batch, newest first.
    Batches,
    /// Legal holds, newest first (active ones; --all for released ones too).
    Holds {
        /// Released holds too.
        #[arg(long)]
        all: bool,
    },
}

/// The audit trail's filters on the command line.
#[derive(Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// First branch-local day (YYYY-MM-DD), inclusive.
    #[arg(long, value_name = "YYYY-MM-DD")]
    from: Option<NaiveDate>,
    /// Last branch-local day (YYYY-MM-DD), inclusive.
    #[arg(long, value_name = "YYYY-MM-DD")]
    to: Option<NaiveDate>,
    /// Only events of this staff member.
    #[arg(long, value_name = "STAFF_ID")]
    staff: Option<String>,
    /// Only events of this case (id or case number).
    #[arg(long = "case", value_name = "CASE")]
    case: Option<String>,
    /// Only this action (e.g. reveal, submit, refused-step).
    #[arg(long, value_name = "ACTION")]
    action: Option<String>,
    /// Only refused attempts.
    #[arg(long)]
    refused: bool,
}

impl FilterArgs {
    fn filter(&self) -> AuditFilter {
        AuditFilter {
            from: self.from,
            to: self.to,
            staff_id: self.staff.clone(),
            case: self.case.clone(),
            action: self.action.clone(),
            refused_only: self.refused,
            before: None,
            limit: None,
        }
    }
}

pub fn run(cmd: RetentionCmd, ctx: &mut Ctx, out: &Out) -> Res<u8> {
    match cmd {
        RetentionCmd::Purge { dry_run } => {
            if !dry_run {
                return Err(Fail::Usage(
                    "a purge is prepared by one person and approved by another: run `retention \
                     purge --dry-run`, then `retention prepare`, then (someone else) `retention \
                     approve --batch ID`"
                        .into(),
                ));
            }
            let actor = ctx.actor()?;
            let r = ctx.svc()?.retention_report(&actor)?;
            out.value(
                &serde_json::to_value(&r).unwrap_or_default(),
                &report_text(&r),
            );
            Ok(0)
        }
        RetentionCmd::Prepare => {
            let actor = ctx.actor()?;
            let b = ctx.svc()?.prepare_purge(&actor)?;
            out.value(
                &serde_json::to_value(&b).unwrap_or_default(),
                &batch_text(&b),
            );
            Ok(0)
        }
        RetentionCmd::Approve { batch } => {
            let actor = ctx.actor()?;
            let b = ctx.svc()?.approve_purge(&actor, &batch)?;
            out.value(
                &serde_json::to_value(&b).unwrap_or_default(),
                &batch_text(&b),
            );
            Ok(0)
        }
        RetentionCmd::Withdraw { batch, reason } => {
            let actor = ctx.actor()?;
            let b = ctx.svc()?.withdraw_purge(&actor, &batch, &reason)?;
            out.value(
                &serde_json::to_value(&b).unwrap_or_default(),
                &batch_text(&b),
            );
            Ok(0)
        }
        RetentionCmd::Batches => {
            let actor = ctx.actor()?;
            let list = ctx.svc()?.purge_batches(&actor)?;
            let text = list.iter().map(batch_line).collect::<Vec<_>>().join("\n");
            out.value(&serde_json::to_value(&list).unwrap_or_default(), &text);
            Ok(0)
        }
        RetentionCmd::Holds { all } => {
            let actor = ctx.actor()?;
            let list = ctx.svc()?.legal_holds(&actor, !all)?;
            let text = list
                .iter()
                .map(|h| {
                    format!(
                        "{}  {}  since {} by {}{}",
                        h.case_number,
                        h.reason,
                        h.set_at.format("%Y-%m-%d"),
                        h.set_by,
                        match (&h.released_at, &h.released_by) {
                            (Some(t), Some(by)) =>
                                format!("  released {} by {by}", t.format("%Y-%m-%d")),
                            _ => String::new(),
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.value(&serde_json::to_value(&list).unwrap_or_default(), &text);
            Ok(0)
        }
    }
}

fn report_text(r: &RetentionReport) -> String {
    let mut t = format!(
        "as of {}: case with identity copy kept {} years, vouchers {} years after close\n",
        r.as_of, r.case_years, r.voucher_years
    );
    if r.due.is_empty() && r.appointments_due == 0 {
        t.push_str("nothing is due for destruction\n");
    }
    for d in &r.due {
        let classes: Vec<String> = d
            .classes
            .iter()
            .map(|c| {
                format!(
                    "{} (kept until {}; {})",
                    c.class,
                    c.kept_until,
                    c.removes.join(", ")
                )
            })
            .collect();
        t.push_str(&format!(
            "due   {}  {}  closed {}  {}\n",
            d.case_number,
            d.state,
            d.closed_on,
            classes.join("; ")
        ));
    }
    if r.appointments_due > 0 {
        t.push_str(&format!(
            "due   {} appointments never came to (slot before {})\n",
            r.appointments_due, r.appointments_before
        ));
    }
    for d in &r.held {
        t.push_str(&format!(
            "held  {}  closed {}  legal hold: {}\n",
            d.case_number,
            d.closed_on,
            d.hold.as_ref().map(|h| h.reason.as_str()).unwrap_or("")
        ));
    }
    if let Some(p) = &r.pending {
        t.push_str(&format!(
            "waiting for approval: {} prepared by {} ({} cases)\n",
            p.id,
            p.prepared_by,
            p.items.len()
        ));
    }
    if r.truncated {
        t.push_str("more cases are due than one batch holds: run again after this one\n");
    }
    t.trim_end().to_string()
}

fn batch_line(b: &PurgeBatch) -> String {
    let purged = b.items.iter().filter(|i| !i.purged.is_empty()).count();
    format!(
        "{}  {}  as of {}  prepared by {}  {}  {} cases{}",
        b.id,
        b.state,
        b.as_of,
        b.prepared_by,
        b.approved_by
            .as_ref()
            .map(|a| format!("approved by {a}"))
            .unwrap_or_default(),
        b.items.len(),
        if b.approved_by.is_some() {
            format!(", {purged} destroyed")
        } else {
            String::new()
        }
    ) + &if b.appointments > 0 {
        format!(", {} appointments", b.appointments)
    } else {
        String::new()
    }
}

fn batch_text(b: &PurgeBatch) -> String {
    let mut t = batch_line(b);
    for i in &b.items {
        let classes: Vec<&str> = i.classes.iter().map(|c| c.as_str()).collect();
        t.push_str(&format!(
            "\n  {}  {}  closed {}  {}{}",
            i.case_number,
            i.state,
            i.closed_on,
            classes.join("+"),
            i.skipped
                .as_ref()
                .map(|s| format!("  skipped: {s}"))
                .unwrap_or_default()
        ));
    }
    t
}

/// `audit export --out FILE.csv [filters]`: the trail as CSV for a spreadsheet.
pub fn export(ctx: &mut Ctx, out: &Out, file: &PathBuf, f: &FilterArgs) -> Res<u8> {
    let actor = ctx.actor()?;
    let csv = ctx.svc()?.export_audit(&actor, &f.filter())?;
    let tmp = file.with_extension("csv.tmp");
    std::fs::write(&tmp, &csv)
        .and_then(|_| std::fs::rename(&tmp, file))
        .map_err(|e| {
            Fail::Core(CoreError::storage(format!(
                "cannot write {}: {e}",
                file.display()
            )))
        })?;
    let rows = csv
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        .saturating_sub(1);
    out.value(
        &serde_json::json!({ "out": file, "events": rows, "bytes": csv.len() }),
        &format!("{rows} events written to {}", file.display()),
    );
    Ok(0)
}

/// `audit reveals [filters]`: every reveal of a full number (a JSON array with --json).
pub fn reveals(ctx: &mut Ctx, out: &Out, f: &FilterArgs) -> Res<u8> {
    let actor = ctx.actor()?;
    let mut filter = f.filter();
    filter.limit = Some(unlockdesk_core::auditor::MAX_AUDIT_PAGE);
    let mut all: Vec<RevealRecord> = Vec::new();
    loop {
        let page = ctx.svc()?.audit_reveals(&actor, &filter)?;
        all.extend(page.reveals);
        match page.next {
            Some(n) => filter.before = Some(n),
            None => break,
        }
    }
    let text = all
        .iter()
        .map(|r| {
            format!(
                "{}  {}  {}  {}  {}",
                r.at.format("%Y-%m-%dT%H:%M:%SZ"),
                r.staff_id,
                r.case_number.as_deref().unwrap_or("-"),
                r.field,
                r.reason
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    out.value(&serde_json::to_value(&all).unwrap_or_default(), &text);
    Ok(0)
}
