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
import type { Case } from './bindings/Case';
import type { CaseView } from './bindings/CaseView';
import type { EventKind } from './bindings/EventKind';
import type { FormPrefill } from './bindings/FormPrefill';
import type { OnlineCheck } from './bindings/OnlineCheck';
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
  /** `ok` on paper (or opened in the viewer), `warn` sent but not confirmed, `bad` failed. */
  tone: 'ok' | 'warn' | 'bad';
  /** The sentence, in the UI language; a print that does not count says so in it. */
  key: MessageKey;
  params: Record<string, string>;
  /** What CUPS said about a failed job, shown as it is (English, from CUPS) below the sentence; '' when none. */
  detail: string;
  /** Counts as printed (core's rule): the CUPS job completed, or the PDF was opened in the viewer. */
  counted: boolean;
};

/**
 * The notice for one print. Core counts a print only when its outcome is `completed`: a CUPS
 * job that was only accepted (`sent`) may be held on a stopped queue and never print, so it
 * warns; a failed job is bad, with CUPS's message as a detail. Without a printer the PDF opens
 * in the viewer, and the notice says so and where to choose one (My settings).
 */
export function printNotice(delivery: PrintDelivery, viewer: Viewer, path: string): PrintNotice {
  const counted = delivery.outcome === 'completed';
  if (delivery.channel === 'cups') {
    const params = { printer: delivery.printer ?? '', job: delivery.job_id ?? '' };
    if (delivery.outcome === 'completed') return { tone: 'ok', key: 'case.printedCups', params, detail: '', counted };
    if (delivery.outcome === 'sent') return { tone: 'warn', key: 'case.printSent', params, detail: '', counted };
    return { tone: 'bad', key: 'case.printFailed', params, detail: delivery.message.trim(), counted };
  }
  const params = { path };
  if (counted) return { tone: 'ok', key: 'case.printed', params, detail: '', counted };
  return { tone: 'bad', key: viewer === 'missing' ? 'case.printedNoViewer' : 'case.printedNotOpened', params, detail: '', counted };
}

/** The id of a blocked step's hint, for the `aria-describedby` of the button it explains. */
export function blockedHintId(b: Pick<BlockedStep, 'event' | 'rule'>): string {
  return `blocked-${b.event}-${b.rule}`;
}

/** The `aria-describedby` of a step's button: the ids of its hints, `undefined` when nothing blocks it. */
export function blockedDescribedBy(view: Pick<CaseView, 'blocked'>, events: readonly EventKind[]): string | undefined {
  const ids = blockedSteps(view, events).map(blockedHintId);
  return ids.length > 0 ? ids.join(' ') : undefined;
}

/** Why a case was refused for its identity: whose online check (联网核查) failed, from the case data. */
export type IdentityRefusal = { who: 'customer' | 'agent'; check: OnlineCheck };

/**
 * The failed online check that refused the case (state `refused-identity`): the customer's,
 * checked at the identity step, else the agent's, recorded with the form; `null` when neither
 * failed (nothing to say beyond the state).
 */
export function identityRefusal(c: Pick<Case, 'identity' | 'form'>): IdentityRefusal | null {
  const customer = c.identity?.online_check;
  if (customer && customer.result !== 'match') return { who: 'customer', check: customer };
  const agent = c.form?.agent?.online_check;
  if (agent && agent.result !== 'match') return { who: 'agent', check: agent };
  return null;
}
