/** Grouping for the Today screen: cases by state, in the order of the counter process. */
import type { CaseState } from './bindings/CaseState';
import type { Appointment } from './bindings/Appointment';
import type { CaseSummary } from './bindings/CaseSummary';
import { localTime } from './format';

/** Display order only (the process order of docs/domain.md §2); no rule is derived from it. */
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
  'refused-identity',
];

export function groupByState(cases: CaseSummary[]): { state: CaseState; cases: CaseSummary[] }[] {
  return STATE_ORDER.map((state) => ({ state, cases: cases.filter((c) => c.state === state) })).filter(
    (g) => g.cases.length > 0,
  );
}

/** One line of today's queue: an appointment at its slot, or a walk-in case at its opening time. */
export type QueueEntry =
  | { kind: 'appointment'; at: string; appointment: Appointment }
  | { kind: 'walk-in'; at: string; case: CaseSummary };

/**
 * Today's queue: the appointments by slot start, with the walk-in cases (no
 * `appointment_id`) opened on `day` interleaved at their opening time in the branch's
 * `timeZone`. `at` is the branch-local `YYYY-MM-DD HH:MM`; at the same minute the appointment
 * comes first (it was booked), and equal entries keep their input order.
 */
export function todayQueue(
  appointments: Appointment[],
  cases: CaseSummary[],
  timeZone: string,
  day?: string,
): QueueEntry[] {
  const entries: QueueEntry[] = [
    ...appointments.map((a) => ({
      kind: 'appointment' as const,
      at: a.slot_start.slice(0, 16).replace('T', ' '),
      appointment: a,
    })),
    ...cases
      .filter((c) => c.appointment_id === null)
      .map((c) => ({ kind: 'walk-in' as const, at: localTime(c.opened_at, timeZone), case: c }))
      .filter((e) => !day || e.at.startsWith(day)),
  ];
  const rank = (e: QueueEntry) => (e.kind === 'appointment' ? 0 : 1);
  return entries
    .map((e, i) => ({ e, i }))
    .sort((x, y) => (x.e.at < y.e.at ? -1 : x.e.at > y.e.at ? 1 : rank(x.e) - rank(y.e) || x.i - y.i))
    .map(({ e }) => e);
}

/** A filter chip of Today's case table: all, mine, waiting for authorization, or one state. */
export type CaseFilter = { kind: 'all' } | { kind: 'mine' } | { kind: 'state'; state: CaseState };

/** The chips to offer: all, mine, waiting for authorization, then each state present today. */
export function filterChips(cases: readonly CaseSummary[]): CaseFilter[] {
  const states = STATE_ORDER.filter((s) => s !== 'submitted' && cases.some((c) => c.state === s));
  return [{ kind: 'all' }, { kind: 'mine' }, { kind: 'state', state: 'submitted' }, ...states.map((state) => ({ kind: 'state' as const, state }))];
}

/** Today's cases through a chip, in process order (state), then by opening time. */
export function filterCases(cases: readonly CaseSummary[], filter: CaseFilter, me: string | undefined): CaseSummary[] {
  const pick = cases.filter((c) =>
    filter.kind === 'all' ? true : filter.kind === 'mine' ? c.opened_by === me : c.state === filter.state,
  );
  const rank = (s: CaseState) => {
    const i = STATE_ORDER.indexOf(s);
    return i < 0 ? STATE_ORDER.length : i;
  };
  return pick.sort((a, b) => rank(a.state) - rank(b.state) || (a.opened_at < b.opened_at ? -1 : a.opened_at > b.opened_at ? 1 : 0));
}

export function sameFilter(a: CaseFilter, b: CaseFilter): boolean {
  return a.kind === b.kind && (a.kind !== 'state' || (b.kind === 'state' && a.state === b.state));
}
