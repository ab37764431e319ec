/**
 * The auditor's console (审计台): the filter form as the `AuditFilter` core runs, pages of the
 * trail put together, and the words of the retention report's values. Core checks the filter
 * and answers with field errors; the pre-check here only spares a round trip for a date core
 * could not read (the shell refuses a malformed date before core sees it).
 */
import { isDay, normalizeDay } from './pastcases';
import { hasKey, t, type MessageKey } from './i18n/index.svelte';
import type { AuditFilter } from './bindings/AuditFilter';
import type { AuditPage } from './bindings/AuditPage';
import type { CaseSummary } from './bindings/CaseSummary';
import type { FieldError } from './bindings/FieldError';
import type { PurgeBatch } from './bindings/PurgeBatch';
import type { RevealPage } from './bindings/RevealPage';
import type { Role } from './bindings/Role';

/** Events per page (core allows 1 to 500). */
export const AUDIT_PAGE_SIZE = 100;

/** The tabs of the console, in order. */
export const CONSOLE_TABS = ['audit', 'verify', 'reveals', 'holds', 'retention'] as const;
export type ConsoleTab = (typeof CONSOLE_TABS)[number];

/**
 * The tabs a role sees: an auditor every one; an administrator (no right to read the trail)
 * only the legal holds and retention; anyone else none.
 */
export function tabsFor(role: Role | undefined): ConsoleTab[] {
  if (role === 'auditor') return [...CONSOLE_TABS];
  if (role === 'admin') return ['retention', 'holds'];
  return [];
}

/** The filter form as typed. Empty text means "any". */
export type AuditForm = {
  /** Branch-local day `YYYY-MM-DD` (or as typed, see `normalizeDay`), inclusive. */
  from: string;
  to: string;
  staff: string;
  /** A case number (or id). */
  caseRef: string;
  action: string;
  refusedOnly: boolean;
};

export function emptyAuditForm(): AuditForm {
  return { from: '', to: '', staff: '', caseRef: '', action: '', refusedOnly: false };
}

/** Trimmed text, or `null` when nothing is left. */
export function textOrNull(s: string | null | undefined): string | null {
  const v = (s ?? '').trim();
  return v === '' ? null : v;
}

/** The form with its typed days read as dates (`2026/12/1` → `2026-12-01`) and text trimmed. */
export function normalizeAuditForm(f: AuditForm): AuditForm {
  return {
    ...f,
    from: normalizeDay(f.from),
    to: normalizeDay(f.to),
    staff: f.staff.trim(),
    caseRef: f.caseRef.trim(),
    action: f.action.trim().toLowerCase(),
  };
}

/**
 * What core would not accept in the dates, by field: `from`/`to` that are no day (`date`), `to`
 * before `from` (`range-order`, beside `to`).
 */
export function auditFormErrors(f: AuditForm): FieldError[] {
  const out: FieldError[] = [];
  const from = normalizeDay(f.from);
  const to = normalizeDay(f.to);
  if (from && !isDay(from)) out.push({ field: 'from', rule: 'date', message: '' });
  if (to && !isDay(to)) out.push({ field: 'to', rule: 'date', message: '' });
  if (out.length === 0 && from && to && to < from) out.push({ field: 'to', rule: 'range-order', message: '' });
  return out;
}

/**
 * The filter of one page: empty text is `null`, text trimmed, days normalized, the action in
 * lower case; `before` is the previous page's `next` (null for the first page).
 */
export function toAuditFilter(f: AuditForm, before: number | null = null, limit: number = AUDIT_PAGE_SIZE): AuditFilter {
  const n = normalizeAuditForm(f);
  return {
    from: textOrNull(n.from),
    to: textOrNull(n.to),
    staff_id: textOrNull(n.staff),
    case: textOrNull(n.caseRef),
    action: textOrNull(n.action),
    refused_only: n.refusedOnly,
    before,
    limit,
  };
}

/** The same filter for the next page. */
export function nextPage(f: AuditFilter, next: number | null): AuditFilter | null {
  return next === null ? null : { ...f, before: next };
}

/** A page of the trail after the ones shown (`prev` null: the first page). */
export function appendAuditPage(prev: AuditPage | null, page: AuditPage): AuditPage {
  if (!prev) return page;
  return {
    events: [...prev.events, ...page.events],
    case_numbers: { ...prev.case_numbers, ...page.case_numbers },
    staff: { ...prev.staff, ...page.staff },
    next: page.next,
  };
}

/** A page of reveals after the ones shown. */
export function appendRevealPage(prev: RevealPage | null, page: RevealPage): RevealPage {
  if (!prev) return page;
  return { reveals: [...prev.reveals, ...page.reveals], next: page.next };
}

/**
 * Actions offered in the filter's list (the field takes any action): the ones an auditor looks
 * for most, the rest typed.
 */
export const COMMON_ACTIONS: readonly string[] = [
  'reveal',
  'refused-step',
  'open-case',
  'verify-identity',
  'submit',
  'approve',
  'reject',
  'confirm-unlock',
  'request-unlock',
  'operator-unlocked',
  'operator-rejected',
  'notification-failed',
  'close',
  'cancel',
  'print',
  'reprint',
  'export',
  'audit-export',
  'sign-in',
  'legal-hold-set',
  'legal-hold-released',
  'purge-prepared',
  'purge-approved',
  'purge-withdrawn',
  'purged',
];

/** The words of one `removes` value of a due class: `personal-data`, `appointment`, `documents:N`. */
export function removesLabel(item: string): string {
  const docs = /^documents:(\d+)$/.exec(item);
  if (docs) return t('retention.removes.documents', { n: Number(docs[1]) });
  const key = `retention.removes.${item}`;
  return hasKey(key) ? t(key) : item;
}

/** Every `removes` value of a class in words, joined. */
export function removesText(items: readonly string[]): string {
  return items.map(removesLabel).join(t('console.sep'));
}

// Why core left a case of a batch alone (its English sentence), as a dictionary key.
const SKIPPED: readonly [RegExp, MessageKey][] = [
  [/legal hold/i, 'skipped.hold'],
  [/no longer due/i, 'skipped.not-due'],
  [/not in the store/i, 'skipped.missing'],
];

/** A skipped item's reason in words; a reason this screen does not know stays as core wrote it. */
export function skippedText(reason: string | null): string {
  if (!reason) return '';
  for (const [re, key] of SKIPPED) if (re.test(reason)) return t(key);
  return reason;
}

/**
 * Why this person may not approve `batch` (a dictionary key), or null. Core decides (the other
 * role too); the screen knows who prepared it.
 */
export function approveBlock(batch: Pick<PurgeBatch, 'prepared_by' | 'state'>, me: string | undefined): MessageKey | null {
  if (batch.state !== 'prepared') return null;
  if (me && batch.prepared_by.toLowerCase() === me.toLowerCase()) return 'retention.approveSelf';
  return null;
}

/** Destroyed and skipped cases of an approved batch. */
export function batchCounts(batch: Pick<PurgeBatch, 'items'>): { purged: number; skipped: number } {
  const purged = batch.items.filter((i) => i.purged.length > 0).length;
  return { purged, skipped: batch.items.length - purged };
}

/** Kilobytes for the export notice, at least 1 for a non-empty file. */
export function kilobytes(bytes: number): number {
  return bytes <= 0 ? 0 : Math.max(1, Math.round(bytes / 1024));
}

/** A step of the console whose refusals have their own words. */
export type ConsoleStep = 'hold' | 'approve' | 'lookup';

/**
 * The words of a refusal this step knows better than the error code's general sentence (a hold
 * already set is no edit by someone else; `four-eyes` here is the other role's approval), or null.
 */
export function stepErrorKey(step: ConsoleStep, code: string | undefined): MessageKey | null {
  if (step === 'hold' && code === 'conflict') return 'hold.conflict';
  if (step === 'approve' && code === 'four-eyes') return 'retention.fourEyes';
  if (step === 'lookup' && code === 'forbidden') return 'hold.lookupForbidden';
  return null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A typed case number as core stores it: full-width folded, trimmed, upper case. */
export function normalizeCaseNumber(typed: string): string {
  return typed
    .trim()
    .replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .toUpperCase();
}

/**
 * The case a typed number names (a case id is taken as it is), found with `find` (the case
 * search): the exact number among its answers, or null when no case has it.
 */
export async function resolveCase(
  typed: string,
  find: (query: string) => Promise<Pick<CaseSummary, 'id' | 'case_number'>[]>,
): Promise<{ id: string; number: string } | null> {
  const ref = typed.trim();
  if (UUID.test(ref)) return { id: ref.toLowerCase(), number: ref.toLowerCase() };
  const number = normalizeCaseNumber(ref);
  if (!number) return null;
  const hit = (await find(number)).find((c) => c.case_number.toUpperCase() === number);
  return hit ? { id: hit.id, number: hit.case_number } : null;
}
