/**
 * The case history as the case view lists it: who acted and, for steps a supervisor
 * authorized on the teller's terminal, which supervisor (core records it in the event's
 * structured `detail`, not in its message); what each print printed, and where; staff by name
 * beside their id. The audit chain's sequence numbers are not shown: the chain also
 * holds audited reads (revealed numbers, exports) of other cases, so a case's own numbers have
 * gaps that would read as missing steps.
 */
import { hasKey, t } from './i18n/index.svelte';
import { label } from './format';
import type { AuditEvent } from './bindings/AuditEvent';
import type { PrintRecord } from './bindings/PrintRecord';

/** The supervisor who authorized this event (approve / return / reject / unlock), if any. */
export function authorizerOf(e: AuditEvent): string | null {
  try {
    const d: unknown = JSON.parse(e.detail);
    if (d && typeof d === 'object') {
      const rec = d as Record<string, unknown>;
      const who = rec['supervisor'] ?? rec['authorized_by'] ?? rec['cochecked_by'];
      if (typeof who === 'string' && who !== '' && who !== e.staff_id) return who;
    }
  } catch {
    /* not JSON: nothing to show */
  }
  return null;
}

// Reasons core wrote before it wrote codes, read as the code that replaced them: audit rows are
// never rewritten, so a close without a receipt recorded before `receipt-waived` still reads so.
const LEGACY_REASONS: readonly [RegExp, string][] = [[/^receipt not handed over: ?/i, 'receipt-waived: ']];

/** A reason `code: text` with its code in words (`form-incomplete: …` → `申请表不完整：…`). */
export function reasonText(reason: string): string {
  for (const [legacy, code] of LEGACY_REASONS) {
    if (legacy.test(reason)) {
      reason = reason.replace(legacy, code);
      break;
    }
  }
  const m = /^([a-z]+(?:-[a-z]+)*): ?(.*)$/s.exec(reason);
  if (!m) return reason;
  const key = `reason.${m[1]}`;
  return hasKey(key) ? t('history.reason', { code: t(key), text: m[2] ?? '' }) : reason;
}

/** What a print, reprint or print-delivery event printed, read from its JSON `detail`. */
export type PrintFacts = {
  kind: string;
  copy: string;
  revision: number | null;
  printer: string | null;
  job: string | null;
  outcome: string | null;
};

const PRINT_ACTIONS = new Set(['print', 'reprint', 'print-delivery']);

function text(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v : null;
}

/**
 * The document, copy, revision and printer/job of a print event. The detail is parsed
 * defensively (not JSON, missing or mistyped fields: left out); a print event names its document
 * id, so the printer and job come from the case's print record when the event has none.
 */
export function printFacts(e: AuditEvent, prints: readonly PrintRecord[] = []): PrintFacts | null {
  if (!PRINT_ACTIONS.has(e.action)) return null;
  let d: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(e.detail);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) d = parsed as Record<string, unknown>;
  } catch {
    /* not JSON: the action alone */
  }
  const id = text(d['document_id']);
  const rec = id ? prints.find((p) => p.document_id === id) : undefined;
  const revision = typeof d['form_revision'] === 'number' ? d['form_revision'] : (rec?.form_revision ?? null);
  const delivery = e.action === 'print-delivery';
  return {
    kind: text(d['kind']) ?? rec?.kind ?? '',
    copy: text(d['copy']) ?? rec?.copy ?? '',
    revision,
    printer: text(d['printer']) ?? rec?.printer ?? null,
    job: text(d['job_id']) ?? rec?.job_id ?? null,
    // The print event itself is only the rendering; its outcome is the delivery's.
    outcome: delivery ? text(d['outcome']) : null,
  };
}

/** A print event in words: `申请表 · 银行联 · 第 2 版 · 打印机 Q · 作业 Q-12 · 已打印`. */
export function printText(f: PrintFacts): string {
  const parts = [label('printkind', f.kind), label('copy', f.copy)];
  if (f.revision !== null && f.kind === 'application') parts.push(t('case.revision', { n: f.revision }));
  if (f.printer) parts.push(t('history.printer', { printer: f.printer }));
  if (f.job) parts.push(t('history.job', { job: f.job }));
  if (f.outcome) parts.push(label('printoutcome', f.outcome));
  return parts.filter((p) => p !== '').join(' · ');
}

/**
 * A staff member as a case shows them: `柜员甲（tel01）` / `Teller One (tel01)`, the name from the
 * case view's `staff` map (core fills it from the staff accounts for every id the view mentions).
 * An id with no name there (a system actor such as `import`) shows as the bare id; the id is
 * always shown, since two people may share a name.
 */
export function staffLabel(id: string, names: Readonly<Record<string, string>>): string {
  const name = names[id];
  return name && name !== id ? t('history.staff', { name, id }) : id;
}
