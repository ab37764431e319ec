/**
 * The wallet operator's connector as the counter screens show it. Core decides: the case view
 * says whether a connector serves the case's operator (`operator_connector`) and `allowed` what
 * may be asked now; this module only reads the case for what the screens need: whether the
 * unlock step offers the connector, the request waiting for the operator's answer, and a
 * refusal that means "no connector here: the manual path".
 */
import type { ApiError } from './errors';
import type { Case } from './bindings/Case';
import type { CaseView } from './bindings/CaseView';
import type { FieldError } from './bindings/FieldError';
import type { OperatorUnlock } from './bindings/OperatorUnlock';

/** The unlock step offers the connector: one serves the case's operator and the case is approved (or its unlock failed). */
export function connectorPath(view: Pick<CaseView, 'operator_connector' | 'case'>): boolean {
  return !!view.operator_connector && (view.case.state === 'approved' || view.case.state === 'unlock-failed');
}

/**
 * The unlock asked of the operator that waits for its answer, if any. Core leaves
 * `request-unlock` out of `allowed` while it waits (asking again is not a new request): the
 * screen offers "ask again" from this instead.
 */
export function waitingUnlock(c: Pick<Case, 'operator_unlock'>): OperatorUnlock | null {
  return c.operator_unlock?.status === 'waiting' ? c.operator_unlock : null;
}

/** The operator refused the last unlock asked of it (the case is `unlock-failed`). */
export function rejectedUnlock(c: Pick<Case, 'operator_unlock' | 'state'>): OperatorUnlock | null {
  return c.state === 'unlock-failed' && c.operator_unlock?.status === 'rejected' ? c.operator_unlock : null;
}

/** Core's refusal for an operator without a connector (`wallet_operator` rule `no-connector`), if that is the error. */
export function noConnector(e: ApiError | null): FieldError | null {
  return e?.fields.find((f) => f.field === 'wallet_operator' && f.rule === 'no-connector') ?? null;
}

/**
 * The operator's refusal in its own words (English, as core recorded it on the failure whose
 * ticket is the request's key): a failure recorded by hand later is not the operator's.
 */
export function rejectionText(c: Pick<Case, 'unlock_failures'>, rejected: Pick<OperatorUnlock, 'key'>): string {
  for (let i = c.unlock_failures.length - 1; i >= 0; i--) {
    const f = c.unlock_failures[i];
    if (f && f.operator_ticket === rejected.key) return f.reason;
  }
  return '';
}
