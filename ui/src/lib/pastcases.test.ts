import { describe, expect, it } from 'vitest';
import {
  MAX_RANGE_DAYS,
  PAGE_SIZE,
  addDays,
  defaultFilter,
  isDay,
  normalizeDay,
  rangeErrors,
  spanDays,
  toQuery,
  type PastFilter,
} from './pastcases';

const f = (over: Partial<PastFilter> = {}): PastFilter => ({ ...defaultFilter('2026-11-29'), ...over });
const rules = (x: PastFilter) => rangeErrors(x).map((e) => `${e.field}:${e.rule}`);

describe('past-case filters', () => {
  it('start with the last 30 days, today included, everything else open', () => {
    expect(defaultFilter('2026-11-29')).toEqual({
      from: '2026-10-31',
      to: '2026-11-29',
      state: '',
      teller: '',
      operator: '',
      leftOpen: false,
    });
    expect(spanDays('2026-10-31', '2026-11-29')).toBe(30);
  });

  it('count calendar days across month, year and leap day', () => {
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(spanDays('2026-11-29', '2026-11-29')).toBe(1);
    expect(spanDays('2026-11-29', '2026-11-28')).toBe(0);
  });

  it('read typed days as YYYY-MM-DD, and only real ones', () => {
    expect(normalizeDay(' 20261201 ')).toBe('2026-12-01');
    expect(normalizeDay('2026/12/1')).toBe('2026-12-01');
    expect(normalizeDay('2026.1.5')).toBe('2026-01-05');
    expect(normalizeDay('2026年12月1日')).toBe('2026-12-01');
    expect(normalizeDay('２０２６１２０１')).toBe('2026-12-01');
    expect(normalizeDay('12/01/2026')).toBe('12/01/2026');
    expect(isDay('2026-02-28')).toBe(true);
    expect(isDay('2026-02-29')).toBe(false);
    expect(isDay('2026-13-01')).toBe(false);
    expect(isDay('2026-1-01')).toBe(false);
  });

  it('refuse the ranges core refuses, with the same fields and rules', () => {
    expect(rules(f())).toEqual([]);
    expect(rules(f({ from: '' }))).toEqual(['from:required']);
    expect(rules(f({ from: '2026-02-30' }))).toEqual(['from:date']);
    expect(rules(f({ to: 'yesterday' }))).toEqual(['to:date']);
    expect(rules(f({ from: '2026-11-29', to: '2026-11-28' }))).toEqual(['to:range-order']);
    // 366 days pass (first and last included), 367 do not.
    expect(rules(f({ from: addDays('2026-11-29', -(MAX_RANGE_DAYS - 1)) }))).toEqual([]);
    expect(rules(f({ from: addDays('2026-11-29', -MAX_RANGE_DAYS) }))).toEqual(['from:span']);
    // Only the first day: core ends the range today.
    expect(rules(f({ to: '' }))).toEqual([]);
  });

  it('become the query of one page: empty choices are no filter, the cursor reads on', () => {
    const first = toQuery(f());
    expect(first).toMatchObject({
      from: '2026-10-31',
      to: '2026-11-29',
      states: [],
      opened_by: null,
      wallet_operator: null,
      open_from_earlier_day: false,
      limit: PAGE_SIZE,
      after: null,
      day: null,
    });
    const cursor = { opened_day: '2026-11-20', opened_at: '2026-11-20T02:00:00Z', case_number: 'T1-20261120-0001' };
    const narrowed = toQuery(
      f({ state: 'returned-for-info', teller: 'tel02', operator: '运营机构A', leftOpen: true, to: '' }),
      cursor,
    );
    expect(narrowed).toMatchObject({
      to: null,
      states: ['returned-for-info'],
      opened_by: 'tel02',
      wallet_operator: '运营机构A',
      open_from_earlier_day: true,
      after: cursor,
    });
  });
});
