/** Grouping for the Today screen: cases by state, in the order of the counter process. */
import type { CaseState } from './bindings/CaseState';
import type { CaseSummary } from './bindings/CaseSummary';

/** Display order only (the process order of domain notes §2); no rule is derived from it. */
export const STATE_ORDER: CaseState[] = [
  'checked-in',
  'identity-verified',
  'form-recorded',
  'form-signed',
  'submitted',
  'returned-for-info',
  'approved',
  'unlock-failed',
  'unlocked',
  'closed',
  'rejected',
  'cancelled',
  'refused-authority-freeze',
];

export function groupByState(cases: CaseSummary[]): { state: CaseState; cases: CaseSummary[] }[] {
  return STATE_ORDER.map((state) => ({ state, cases: cases.filter((c) => c.state === state) })).filter(
    (g) => g.cases.length > 0,
  );
}
