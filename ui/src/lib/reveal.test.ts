import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { Reveals, REVEAL_SECONDS } from './reveal.svelte';
import * as api from './api';
import type { RevealField } from './bindings/RevealField';

beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  vi.useRealTimers();
  clearMocks();
});

const full: Record<RevealField, string> = {
  'id-number': '110101199003071233',
  phone: '13112346789',
  'bank-card': '6200000000000005',
  'wallet-id': '0012345678901234',
};

function fake() {
  const calls: { field: RevealField; reason: string }[] = [];
  const r = new Reveals(async (field, reason) => {
    calls.push({ field, reason });
    return full[field];
  });
  return { r, calls };
}

describe('Reveals', () => {
  it('shows the value after a reason, hides it after 30 s, counting down', async () => {
    const { r, calls } = fake();
    r.ask('phone');
    expect(r.asking).toBe('phone');
    expect(await r.confirm('customer asks to check')).toBe(true);
    expect(calls).toEqual([{ field: 'phone', reason: 'customer asks to check' }]);
    expect(r.asking).toBeNull();
    expect(r.value('phone')).toBe(full.phone);
    expect(r.left('phone')).toBe(REVEAL_SECONDS);
    vi.advanceTimersByTime(10_000);
    expect(r.left('phone')).toBe(20);
    expect(r.value('phone')).toBe(full.phone);
    vi.advanceTimersByTime(19_000);
    expect(r.left('phone')).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(r.value('phone')).toBeUndefined();
    expect(r.left('phone')).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a second reveal restarts the 30 s', async () => {
    const { r } = fake();
    r.ask('bank-card');
    await r.confirm('check the card');
    vi.advanceTimersByTime(25_000);
    r.ask('bank-card');
    await r.confirm('check the card again');
    expect(r.left('bank-card')).toBe(30);
    vi.advanceTimersByTime(25_000);
    expect(r.value('bank-card')).toBe(full['bank-card']);
    vi.advanceTimersByTime(5_000);
    expect(r.value('bank-card')).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('each field has its own count', async () => {
    const { r } = fake();
    r.ask('phone');
    await r.confirm('reason one');
    vi.advanceTimersByTime(20_000);
    r.ask('wallet-id');
    await r.confirm('reason two');
    vi.advanceTimersByTime(10_000);
    expect(r.value('phone')).toBeUndefined();
    expect(r.value('wallet-id')).toBe(full['wallet-id']);
    expect(r.left('wallet-id')).toBe(20);
  });

  it("core's refusal stays beside the reason field and the dialog stays open", async () => {
    mockIPC((cmd, args) => {
      expect(cmd).toBe('reveal_value');
      const a = args as { caseId: string; field: RevealField; reason: string };
      if (a.reason.trim().length < 4) {
        throw {
          code: 'invalid',
          message: 'reason: type why the full value is needed',
          fields: [{ field: 'reason', rule: 'required', message: 'type why the full value is needed' }],
        };
      }
      if (a.field === 'wallet-id') throw { code: 'forbidden', message: 'not permitted', fields: [] };
      return full[a.field];
    });
    const r = new Reveals((field, reason) => api.revealValue('C1', field, reason));
    r.ask('id-number');
    expect(await r.confirm('ab')).toBe(false);
    expect(r.asking).toBe('id-number');
    expect(r.value('id-number')).toBeUndefined();
    expect(r.reasonError).toMatchObject({ field: 'reason', rule: 'required' });
    expect(await r.confirm('identity dispute')).toBe(true);
    expect(r.reasonError).toBeUndefined();
    expect(r.value('id-number')).toBe(full['id-number']);

    r.ask('wallet-id');
    expect(await r.confirm('operator asks')).toBe(false);
    expect(r.reasonError).toMatchObject({ field: 'reason', rule: 'forbidden' });
    r.cancel();
    expect(r.asking).toBeNull();
    expect(r.error).toBeNull();
  });

  it('leaving the screen hides everything, even an answer still on its way', async () => {
    let answer: (v: string) => void = () => {};
    const r = new Reveals(() => new Promise<string>((res) => (answer = res)));
    r.ask('phone');
    const late = r.confirm('checking the number');
    r.hideAll();
    answer(full.phone);
    expect(await late).toBe(false);
    expect(r.value('phone')).toBeUndefined();

    const { r: r2 } = fake();
    r2.ask('phone');
    await r2.confirm('reason one');
    r2.hideAll();
    expect(r2.value('phone')).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a double Enter sends one request', async () => {
    const { r, calls } = fake();
    r.ask('phone');
    await Promise.all([r.confirm('reason one'), r.confirm('reason one')]);
    expect(calls).toHaveLength(1);
  });
});
