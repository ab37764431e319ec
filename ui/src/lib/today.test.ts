import { describe, expect, it } from 'vitest';
import type { Appointment } from './bindings/Appointment';
import type { CaseSummary } from './bindings/CaseSummary';
import { filterCases, filterChips, sameFilter, todayQueue } from './today';

const appt = (id: string, slot: string): Appointment => ({
  id,
  reference: id,
  name: '张*',
  phone: '131****6789',
  id_type: 'prc-id',
  id_number: '****002X',
  wallet_operator: '运营机构A',
  lock_cause: 'wrong-password',
  slot_start: `2026-11-29T${slot}:00`,
  slot_end: `2026-11-29T${slot}:00`,
  notes: '',
  status: 'waiting',
  case_id: null,
});

const kase = (id: string, openedUtc: string, appointment_id: string | null = null): CaseSummary => ({
  id,
  case_number: `T1-20261129-${id}`,
  state: 'checked-in',
  customer_name: '测试甲',
  phone_masked: '131****6789',
  lock_cause: null,
  opened_at: openedUtc,
  opened_day: '2026-11-29',
  updated_at: openedUtc,
  opened_by: 'tel01',
  appointment_id,
  wallet_operator: '运营机构A',
  open_from_earlier_day: false,
});

describe('todayQueue', () => {
  it('interleaves walk-ins by their opening time in the branch time zone', () => {
    const q = todayQueue(
      [appt('a10', '10:00'), appt('a09', '09:00')],
      [
        kase('w1', '2026-11-29T01:30:00Z'), // 09:30 Shanghai
        kase('w2', '2026-11-29T02:00:00Z'), // 10:00 Shanghai: after the 10:00 slot
        kase('c1', '2026-11-29T00:55:00Z', 'a09'), // from an appointment: not a walk-in
      ],
      'Asia/Shanghai',
      '2026-11-29',
    );
    expect(q.map((e) => (e.kind === 'appointment' ? e.appointment.id : e.case.id))).toEqual([
      'a09',
      'w1',
      'a10',
      'w2',
    ]);
    expect(q[1]).toMatchObject({ kind: 'walk-in', at: '2026-11-29 09:30' });
    expect(q[0]).toMatchObject({ kind: 'appointment', at: '2026-11-29 09:00' });
  });

  it('keeps walk-ins opened on another local day out', () => {
    // 2026-11-28T17:00Z is 01:00 on the 29th in Shanghai but still the 28th in UTC.
    const cases = [kase('w1', '2026-11-28T17:00:00Z')];
    expect(todayQueue([], cases, 'Asia/Shanghai', '2026-11-29')).toHaveLength(1);
    expect(todayQueue([], cases, 'UTC', '2026-11-29')).toHaveLength(0);
  });
});

describe('today as one table', () => {
  const c = (id: string, state: CaseSummary['state'], by: string, at: string): CaseSummary => ({ ...kase(id, at), state, opened_by: by });
  const cases = [
    c('1', 'closed', 'tel01', '2026-11-29T01:00:00Z'),
    c('2', 'submitted', 'tel02', '2026-11-29T02:00:00Z'),
    c('3', 'checked-in', 'tel01', '2026-11-29T03:00:00Z'),
    c('4', 'checked-in', 'tel02', '2026-11-29T00:30:00Z'),
  ];
  it('offers all, mine, waiting for authorization, then each state present', () => {
    expect(filterChips(cases)).toEqual([
      { kind: 'all' }, { kind: 'mine' }, { kind: 'state', state: 'submitted' },
      { kind: 'state', state: 'checked-in' }, { kind: 'state', state: 'closed' },
    ]);
  });
  it('filters and orders by process state, then opening time', () => {
    expect(filterCases(cases, { kind: 'all' }, 'tel01').map((x) => x.id)).toEqual(['4', '3', '2', '1']);
    expect(filterCases(cases, { kind: 'mine' }, 'tel01').map((x) => x.id)).toEqual(['3', '1']);
    expect(filterCases(cases, { kind: 'state', state: 'submitted' }, 'tel01').map((x) => x.id)).toEqual(['2']);
    expect(sameFilter({ kind: 'state', state: 'closed' }, { kind: 'state', state: 'closed' })).toBe(true);
    expect(sameFilter({ kind: 'mine' }, { kind: 'all' })).toBe(false);
  });
});
