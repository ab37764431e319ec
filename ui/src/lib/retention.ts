/**
 * A case's retention as the case view shows it: a case in a final state is read-only while its
 * periods run (core refuses to print onto it: a reprint is an exported copy), and a destroyed
 * class leaves a tombstone (core's `RetentionStatus`, `PurgeMark`).
 */
import type { Case } from './bindings/Case';
import type { CaseState } from './bindings/CaseState';
import type { ClassRetention } from './bindings/ClassRetention';

/** The states a case ends in (core's `CaseState::is_terminal`): its periods count from then. */
export const FINAL_STATES: readonly CaseState[] = ['closed', 'cancelled', 'rejected', 'refused-authority-freeze', 'refused-identity'];

export function isFinal(state: CaseState): boolean {
  return FINAL_STATES.includes(state);
}

/** Some record class of the case was destroyed: what is left is its tombstone. */
export function isPurged(c: Pick<Case, 'purges'>): boolean {
  return c.purges.length > 0;
}

/** One class of a case in the retention panel. */
export type ClassLine =
  | { kind: 'open'; years: number }
  | { kind: 'kept'; years: number; until: string }
  | { kind: 'purged'; on: string; batch: string; preparedBy: string; approvedBy: string };

/** What the panel says of one class: kept until a day, destroyed (by which batch), or not counting yet. */
export function classLine(r: ClassRetention): ClassLine {
  if (r.purged) {
    return { kind: 'purged', on: r.purged.at, batch: r.purged.batch_id, preparedBy: r.purged.prepared_by, approvedBy: r.purged.approved_by };
  }
  if (r.kept_until) return { kind: 'kept', years: r.years, until: r.kept_until };
  return { kind: 'open', years: r.years };
}
