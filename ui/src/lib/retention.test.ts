import { describe, expect, it } from 'vitest';
import { FINAL_STATES, classLine, isFinal, isPurged } from './retention';
import type { CaseState } from './bindings/CaseState';

describe('retention of a case', () => {
  it('a case is final once closed, cancelled, rejected or refused: read-only from then', () => {
    expect(FINAL_STATES).toEqual(['closed', 'cancelled', 'rejected', 'refused-authority-freeze', 'refused-identity']);
    const open: CaseState[] = ['checked-in', 'submitted', 'approved', 'unlocked', 'unlock-failed', 'returned-for-info'];
    for (const s of open) expect(isFinal(s), s).toBe(false);
    for (const s of FINAL_STATES) expect(isFinal(s), s).toBe(true);
  });

  it('a purge mark makes a tombstone', () => {
    expect(isPurged({ purges: [] })).toBe(false);
    expect(
      isPurged({ purges: [{ class: 'case', batch_id: 'DR-1', prepared_by: 'adm01', approved_by: 'aud01', at: '2036-12-08T02:00:00Z' }] }),
    ).toBe(true);
  });

  it('a class is kept until a day, destroyed by a batch, or not counting while the case is open', () => {
    expect(classLine({ class: 'case', years: 10, kept_until: null, purged: null })).toEqual({ kind: 'open', years: 10 });
    expect(classLine({ class: 'voucher', years: 30, kept_until: '2056-12-07', purged: null })).toEqual({
      kind: 'kept', years: 30, until: '2056-12-07',
    });
    expect(
      classLine({
        class: 'case', years: 10, kept_until: '2036-12-07',
        purged: { class: 'case', batch_id: 'DR-20361208-abc123', prepared_by: 'adm01', approved_by: 'aud01', at: '2036-12-08T02:00:00Z' },
      }),
    ).toEqual({ kind: 'purged', on: '2036-12-08T02:00:00Z', batch: 'DR-20361208-abc123', preparedBy: 'adm01', approvedBy: 'aud01' });
  });
});
