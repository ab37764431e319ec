/**
 * The supervisor's decision (授权意见) as both authorization screens take it (the counter's
 * on-terminal panel and the desk's request screen): no decision is preselected, return and
 * reject need a reason code, the code `other` needs words, and the confirm button names the
 * decision. A comfort pre-check: core refuses what is missing anyway.
 */
import type { MessageKey } from './i18n/index.svelte';
import { T } from './testids';
import type { Decision } from './bindings/Decision';
import type { ReasonCode } from './bindings/ReasonCode';

export const DECISIONS: readonly Decision[] = ['approve', 'return-for-info', 'reject'];

export const REASON_CODES: readonly ReasonCode[] = [
  'identity-doubt',
  'form-incomplete',
  'signature-missing',
  'materials-missing',
  'operator-refused',
  'suspected-fraud',
  'other',
];

/** The decision's reason fields show (return for correction, reject). */
export function needsReason(decision: Decision | null): boolean {
  return decision === 'return-for-info' || decision === 'reject';
}

/** The decision may be sent: chosen, with a code when it needs one, and words for `other`. */
export function decisionReady(decision: Decision | null, reasonCode: ReasonCode | '', reason: string): boolean {
  if (!decision) return false;
  if (!needsReason(decision)) return true;
  if (!reasonCode) return false;
  return reasonCode !== 'other' || reason.trim() !== '';
}

/** The reason code to send: none with an approval. */
export function codeToSend(decision: Decision, reasonCode: ReasonCode | ''): ReasonCode | null {
  return needsReason(decision) && reasonCode ? reasonCode : null;
}

/** The confirm button's words: the chosen decision, or a prompt to choose one. */
export function confirmKey(decision: Decision | null): MessageKey {
  return decision ? `auth.confirm.${decision}` : 'auth.chooseDecision';
}

/** The test id of a decision's radio button. */
export function decisionTestId(decision: Decision): string {
  switch (decision) {
    case 'approve':
      return T.authDecisionApprove;
    case 'return-for-info':
      return T.authDecisionReturn;
    case 'reject':
      return T.authDecisionReject;
  }
}
