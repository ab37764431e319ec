/**
 * The past-case browser's filters: what the teller picks on the screen, as the query core
 * runs. Core checks the query and decides which case is left open from an earlier day; the
 * pre-check here only spares a round trip for a range core would refuse (same rule codes).
 */
import type { CaseCursor } from './bindings/CaseCursor';
import type { CaseQuery } from './bindings/CaseQuery';
import type { CaseState } from './bindings/CaseState';
import type { FieldError } from './bindings/FieldError';

/** Rows per page (core allows 1 to 500). */
export const PAGE_SIZE = 50;
/** The longest range core accepts, first and last day included. */
export const MAX_RANGE_DAYS = 366;
/** The range a teller sees first: the last 30 days, today included. */
export const DEFAULT_RANGE_DAYS = 30;

/** The screen's filters. Empty text means "every" (state, teller, operator). */
export type PastFilter = {
  /** `YYYY-MM-DD`, branch-local opening day, inclusive. */
  from: string;
  to: string;
  state: CaseState | '';
  teller: string;
  operator: string;
  /** Only cases left open from an earlier day. */
  leftOpen: boolean;
};

/** `day` (`YYYY-MM-DD`) plus `n` calendar days. */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Days from `from` to `to`, both included (0 when `to` is before `from`). */
export function spanDays(from: string, to: string): number {
  const ms = Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`);
  return ms < 0 ? 0 : Math.round(ms / 86_400_000) + 1;
}

/** The last `days` days up to `today`, every state, teller and operator. */
export function defaultFilter(today: string, days = DEFAULT_RANGE_DAYS): PastFilter {
  return { from: addDays(today, -(days - 1)), to: today, state: '', teller: '', operator: '', leftOpen: false };
}

/**
 * A typed day as `YYYY-MM-DD`: full-width digits folded, `-` `/` `.` or 年月日 between the
 * parts (`2026/12/1`, `2026年12月1日`) or none (`20261201`); anything else comes back trimmed,
 * for the check to refuse.
 */
export function normalizeDay(typed: string): string {
  const s = typed.trim().replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  if (/^\d{8}$/.test(s)) return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6)}`;
  const m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(s);
  return m ? `${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}` : s;
}

/** A real calendar day in `YYYY-MM-DD` (`2026-02-30` is not). */
export function isDay(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && addDays(s, 0) === s;
}

/**
 * The errors core would give this range, by field (`from`: required, date, span; `to`: date,
 * range-order), so the screen shows them beside the date before asking.
 */
export function rangeErrors(f: PastFilter): FieldError[] {
  const out: FieldError[] = [];
  if (!f.from) out.push({ field: 'from', rule: 'required', message: '' });
  else if (!isDay(f.from)) out.push({ field: 'from', rule: 'date', message: '' });
  if (f.to && !isDay(f.to)) out.push({ field: 'to', rule: 'date', message: '' });
  if (out.length === 0 && f.to) {
    if (f.to < f.from) out.push({ field: 'to', rule: 'range-order', message: '' });
    else if (spanDays(f.from, f.to) > MAX_RANGE_DAYS) out.push({ field: 'from', rule: 'span', message: '' });
  }
  return out;
}

/** The query of one page: `after` is the previous page's `next` (null for the first page). */
export function toQuery(f: PastFilter, after: CaseCursor | null = null, limit = PAGE_SIZE): CaseQuery {
  return {
    day: null,
    from: f.from || null,
    to: f.to || null,
    states: f.state ? [f.state] : [],
    open_from_earlier_day: f.leftOpen,
    opened_by: f.teller || null,
    wallet_operator: f.operator || null,
    case_number: null,
    name_prefix: null,
    tail4: null,
    limit,
    after,
  };
}
