/**
 * The evidence rules as the counter screens show them (issue 12). Core decides: `allowed` says
 * what may be done now, `blocked` lists the steps the state has but the evidence refuses, with
 * the rule to satisfy first. This module only turns that into what a screen needs: whether a
 * step's button shows (disabled while blocked), the hint's words, whether "close" may be
 * pressed (a printed receipt or a typed reason), and how a print was delivered.
 */
import { hasKey, t, type MessageKey } from './i18n/index.svelte';
import type { ApplicationForm } from './bindings/ApplicationForm';
import type { BlockedStep } from './bindings/BlockedStep';
import type { CaseView } from './bindings/CaseView';
import type { EventKind } from './bindings/EventKind';
import type { FormPrefill } from './bindings/FormPrefill';
import type { PrintDelivery } from './bindings/PrintDelivery';
import type { Viewer } from './bindings/Viewer';

type Steps = Pick<CaseView, 'allowed' | 'blocked'>;

/** Core's refusals of the steps `events` now, in core's order (empty when none is blocked). */
export function blockedSteps(view: Pick<CaseView, 'blocked'>, events: readonly EventKind[]): BlockedStep[] {
  return view.blocked.filter((b) => events.includes(b.event));
}

/** The step's button shows: allowed now, or refused only for missing evidence (then disabled, with the hint). */
export function offered(view: Steps, event: EventKind): boolean {
  return view.allowed.includes(event) || view.blocked.some((b) => b.event === event);
}

/** The step may be pressed now: allowed, and no evidence rule refuses it. `close` has its own rule ([`canClose`]). */
export function ready(view: Steps, event: EventKind): boolean {
  return view.allowed.includes(event) && !view.blocked.some((b) => b.event === event);
}

/**
 * Closing needs a printed receipt or a reason it was not printed (e.g. the customer declined
 * it): core lists `close` as blocked by `receipt-not-printed` while still allowing it with a
 * reason, so the button is enabled once the reason is typed.
 */
export function canClose(view: Pick<CaseView, 'allowed' | 'receipt_printed'>, waiver: string): boolean {
  return view.allowed.includes('close') && (view.receipt_printed || waiver.trim() !== '');
}

/** The receipt waiver sent with "close": only when no receipt was printed, trimmed, `null` when blank. */
export function waiverToSend(view: Pick<CaseView, 'receipt_printed'>, waiver: string): string | null {
  return view.receipt_printed ? null : waiver.trim() || null;
}

/** The dictionary key of a blocked step's hint (`blocked.<rule>`; a rule without words gets the generic one). */
export function blockedKey(rule: string): MessageKey {
  const key = `blocked.${rule}`;
  return hasKey(key) ? key : 'blocked.unknown';
}

/** The form fields filled from the verified document (core's `prefill.locked`). */
export const PREFILLED = ['sex', 'nationality', 'id_valid_until', 'customer_name_latin'] as const;
export type PrefilledField = (typeof PREFILLED)[number];

/** The field is filled from the verified document and read-only on the form. */
export function isLocked(prefill: FormPrefill | null | undefined, field: PrefilledField): boolean {
  return !!prefill && prefill.locked.includes(field);
}

/**
 * Fill the form from the verified document: each locked field takes the document's value
 * (blank ones when the draft is made; a stale one, e.g. after the identity was checked again
 * with another document, too: the field is read-only, so it must not hold what core would
 * refuse as `differs-from-document`). Fields that are not locked are never touched. Returns
 * the fields changed.
 */
export function applyPrefill(form: ApplicationForm, prefill: FormPrefill | null | undefined): PrefilledField[] {
  if (!prefill) return [];
  const changed: PrefilledField[] = [];
  for (const field of PREFILLED) {
    if (!prefill.locked.includes(field)) continue;
    if (field === 'sex') {
      if (prefill.sex && form.sex !== prefill.sex) {
        form.sex = prefill.sex;
        changed.push(field);
      }
    } else if (prefill[field] !== '' && form[field] !== prefill[field]) {
      form[field] = prefill[field];
      changed.push(field);
    }
  }
  return changed;
}

/** A validity as shown: `long-term` in words (长期), a date as it is. */
export function validityText(value: string): string {
  return value === 'long-term' ? t('form.longTerm') : value;
}

/** What the screen says after a print, from the delivery the shell recorded. */
export type PrintNotice = {
  tone: 'ok' | 'warn';
  /** The sentence; `notCounted` adds that the print does not count as printed. */
  key: MessageKey;
  params: Record<string, string>;
  /** The paper is (or is being) in the teller's hand: sent to CUPS, completed, or opened in the viewer. */
  counted: boolean;
};

/** The notice for one print: the printer and job for CUPS, the file for the viewer; failures in warn. */
export function printNotice(delivery: PrintDelivery, viewer: Viewer, path: string): PrintNotice {
  const counted = delivery.outcome === 'sent' || delivery.outcome === 'completed';
  if (delivery.channel === 'cups') {
    const printer = delivery.printer ?? '';
    if (!counted) return { tone: 'warn', key: 'case.printFailed', params: { printer, message: delivery.message }, counted };
    return {
      tone: 'ok',
      key: 'case.printedCups',
      params: { printer, job: delivery.job_id ?? '', outcome: t(delivery.outcome === 'completed' ? 'printoutcome.completed' : 'printoutcome.sent') },
      counted,
    };
  }
  if (counted) return { tone: 'ok', key: 'case.printed', params: { path }, counted };
  return { tone: 'warn', key: viewer === 'missing' ? 'case.printedNoViewer' : 'case.printedNotOpened', params: { path }, counted };
}
