/**
 * The counter flow's window-side state: which panel shows a case (navigation only: the
 * actions offered come from core's `allowed` list), and the drafts of what the teller typed,
 * kept per case for the whole session so a refused step never loses input.
 */
import type { OnlineCheckResult } from './bindings/OnlineCheckResult';
import type { ApplicationForm } from './bindings/ApplicationForm';
import type { CaseState } from './bindings/CaseState';
import type { CaseView } from './bindings/CaseView';
import type { EventKind } from './bindings/EventKind';
import type { IdentityInput } from './bindings/IdentityInput';
import type { OnlineCheck } from './bindings/OnlineCheck';
import type { SecondFactorCheck } from './bindings/SecondFactorCheck';
import { applyPrefill } from './evidence';

export type Panel = 'identity' | 'form' | 'review' | 'unlock' | 'freeze' | 'done';
export const STEPS = ['checkin', 'identity', 'form', 'review', 'unlock'] as const;
export type Step = (typeof STEPS)[number];

/** Core says this action is allowed now for the signed-in person. */
export function can(view: CaseView | null, kind: EventKind): boolean {
  return !!view && view.allowed.includes(kind);
}

/** The panel a case in `state` opens on. */
export function panelFor(view: CaseView): Panel {
  const state: CaseState = view.case.state;
  if (state === 'refused-authority-freeze' || view.freeze_route) return 'freeze';
  switch (state) {
    case 'checked-in':
      return 'identity';
    case 'identity-verified':
      return view.case.identity?.needs_cocheck && !view.case.identity.cochecked_by ? 'identity' : 'form';
    case 'form-recorded':
    case 'returned-for-info':
      return 'form';
    case 'form-signed':
    case 'submitted':
      return 'review';
    case 'approved':
    case 'unlock-failed':
    case 'unlocked':
      return 'unlock';
    default:
      return 'done';
  }
}

/** The stepper position of a panel. */
export function stepOf(panel: Panel): Step {
  if (panel === 'identity' || panel === 'form' || panel === 'review' || panel === 'unlock') return panel;
  return panel === 'freeze' ? 'checkin' : 'unlock';
}

export function emptyForm(): ApplicationForm {
  return {
    customer_name: '',
    customer_name_latin: '',
    sex: null,
    nationality: '',
    occupation: '',
    address: '',
    phone: '',
    id_type: 'prc-id',
    id_number: '',
    id_valid_until: '',
    agent: null,
    wallet_operator: '',
    wallet_id: '',
    wallet_class: '',
    lock_cause: null,
    requested_action: 'unlock',
    reason: '',
    bank_card: '',
    declaration_true: false,
    consent_query: false,
    risk_acknowledged: false,
    materials: [],
  };
}

export type OnlineDraft = { result: '' | OnlineCheckResult; reference: string };

/** The online check to send: `null` until a result is chosen. */
export function onlineCheck(o: OnlineDraft): OnlineCheck | null {
  return o.result ? { result: o.result, reference: o.reference.trim() } : null;
}

/**
 * The second factor to send with a linked bank card: `null` until its kind is chosen. The
 * score (0-100) goes only with face verification; a score that is not a whole number is sent
 * as `null` (core then asks for it).
 */
export function secondFactor(kind: string, f: Draft['factor']): SecondFactorCheck | null {
  if (!kind) return null;
  const face = kind === 'face-verification';
  const score = f.score.trim();
  return {
    kind: kind as SecondFactorCheck['kind'],
    passed: f.passed,
    score: face && /^\d{1,3}$/.test(score) ? Number(score) : null,
    reference: f.reference.trim(),
  };
}

export type Draft = {
  identity: IdentityInput;
  /** The online identity check (联网核查) as typed: '' until a result is chosen. */
  online: OnlineDraft;
  /** The agent's online identity check, as typed. */
  agentOnline: OnlineDraft;
  /** The second factor beside a linked bank card (its kind is `identity.reference`). */
  factor: { passed: boolean; score: string; reference: string };
  /** Why the receipt was not handed over (closing without a printed receipt). */
  receiptWaiver: string;
  /** The path of the signed form's scan or photo to attach, as typed. */
  scanPath: string;
  form: ApplicationForm;
  hasAgent: boolean;
  /** Idempotency keys per action, kept until that action succeeds (a retry reuses it). */
  keys: Record<string, string>;
};

const drafts = $state<Record<string, Draft>>({});

/**
 * The draft of `caseId`, created on first use: prefilled from the case where it is clear text,
 * and from the verified document (`view.prefill`, its locked fields).
 */
export function draftFor(caseId: string, view?: CaseView): Draft {
  let d = drafts[caseId];
  if (!d) {
    const form = emptyForm();
    if (view) {
      form.customer_name = view.case.customer_name;
      form.lock_cause = view.case.lock_cause;
      if (view.form_document) form.id_type = view.form_document.kind;
      if (view.amendment_draft) Object.assign(form, structuredClone($state.snapshot(view.amendment_draft)));
      applyPrefill(form, view.prefill);
    }
    const agentCheck = form.agent?.online_check;
    drafts[caseId] = {
      identity: { kind: 'prc-id', number: '', mrz_line2: '', name_on_document: '', reference: '', valid_until: '', online_check: null, second_factor: null },
      online: { result: '', reference: '' },
      agentOnline: { result: agentCheck?.result ?? '', reference: agentCheck?.reference ?? '' },
      factor: { passed: false, score: '', reference: '' },
      receiptWaiver: '',
      scanPath: '',
      form,
      hasAgent: !!form.agent,
      keys: {},
    };
    d = drafts[caseId]!;
  }
  return d;
}

/**
 * Set one field of a draft from a component that got the draft as a prop: the drafts belong to
 * this module, not to the screen that passed them down.
 */
export function setDraft<K extends keyof Draft>(d: Draft, key: K, value: Draft[K]): void {
  d[key] = value;
}

/** The idempotency key of one attempt of `action` on a case (new after a success). */
export function keyFor(d: Draft, action: string): string {
  return (d.keys[action] ??= globalThis.crypto.randomUUID());
}

export function settled(d: Draft, action: string): void {
  delete d.keys[action];
}

export function forgetDrafts(): void {
  for (const k of Object.keys(drafts)) delete drafts[k];
  for (const k of Object.keys(checkInKeys)) delete checkInKeys[k];
}

/**
 * Idempotency keys of check-in attempts (a walk-in, or an appointment by its id), kept across
 * visits to the check-in screen: an attempt still waiting for the branch server, pressed again
 * after the teller left the screen and came back, opens the same case, never a second one.
 * New after a success; dropped at sign-out.
 */
const checkInKeys: Record<string, string> = {};

export function checkInKey(attempt: string): string {
  return (checkInKeys[attempt] ??= globalThis.crypto.randomUUID());
}

export function checkInSettled(attempt: string): void {
  delete checkInKeys[attempt];
}

