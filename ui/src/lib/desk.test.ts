// The live desk: one read per burst of events, a resync reads again and reaches every case shown,
// a case's screen hears only its own events, nobody but a supervisor gets a queue, and an answer
// older than a later read never overwrites it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEBOUNCE_MS, Desk, TICK_MS, type DeskDeps } from './desk.svelte';
import type { LiveMessage } from './api';
import type { AuthorizationItem } from './bindings/AuthorizationItem';

function item(case_id: string, actionable = true): AuthorizationItem {
  return {
    case_id, case_number: `BJ001-20261129-${case_id}`, kind: 'authorize', state: 'submitted', customer_name: '张*',
    lock_cause: null, makers: ['tel01'], requested_by: 'tel01', terminal: '', waiting_since: '2026-11-29T02:00:00Z',
    opened_by: null, opened_at: null, actionable, not_actionable: actionable ? null : 'four-eyes',
  };
}

const event = (case_id: string, kind = 'decided'): LiveMessage => ({
  kind: 'event',
  event: { seq: 1, event: kind, case_id, kind: 'authorize', action: 'approve', by: 'sup02', at: '2026-11-29T02:05:00Z' },
});

let send: (m: LiveMessage) => void;
let enabled: boolean;
let clock: number;
let desk: Desk;
let read: ReturnType<typeof vi.fn<() => Promise<AuthorizationItem[]>>>;

function make(over: Partial<DeskDeps> = {}): Desk {
  const d = new Desk({
    read: () => read(),
    follow: async (on) => {
      send = on;
      return null;
    },
    enabled: () => enabled,
    clock: () => clock,
    ...over,
  });
  d.start();
  return d;
}

beforeEach(() => {
  vi.useFakeTimers();
  enabled = true;
  clock = Date.parse('2026-11-29T02:10:00Z');
  read = vi.fn(async () => [item('0001'), item('0002', false)]);
  desk = make();
});
afterEach(() => {
  desk.stop();
  vi.useRealTimers();
});

describe('the desk', () => {
  it('reads the queue once for a burst of events, after a quiet moment', async () => {
    send(event('a'));
    send(event('b'));
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS - 1);
    send(event('c'));
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS - 1);
    expect(read).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(read).toHaveBeenCalledTimes(1);
    expect(desk.items.map((i) => i.case_id)).toEqual(['0001', '0002']);
    expect(desk.loaded).toBe(true);
    expect(desk.actionable).toBe(1);
  });

  it('a resync reads the queue again and reaches every case shown', async () => {
    const a = vi.fn();
    const b = vi.fn();
    desk.followCase('a', a);
    desk.followCase('b', b);
    send({ kind: 'resync' });
    expect(a).toHaveBeenCalledWith({ kind: 'resync' });
    expect(b).toHaveBeenCalledWith({ kind: 'resync' });
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(read).toHaveBeenCalledTimes(1);
  });

  it("a case's screen hears its own events only, until it stops", () => {
    const a = vi.fn();
    const b = vi.fn();
    const stopA = desk.followCase('a', a);
    desk.followCase('b', b);
    send(event('a'));
    expect(a).toHaveBeenCalledTimes(1);
    expect(b).not.toHaveBeenCalled();
    stopA();
    send(event('a'));
    expect(a).toHaveBeenCalledTimes(1);
  });

  it('one failing screen does not stop the others hearing the event', () => {
    const b = vi.fn();
    desk.followCase('a', () => {
      throw new Error('boom');
    });
    desk.followCase('a', b);
    send(event('a'));
    expect(b).toHaveBeenCalledTimes(1);
  });

  it('reads nothing for a teller (or a locked screen) and forgets the last queue', async () => {
    await desk.refresh();
    expect(desk.items).toHaveLength(2);
    desk.notice = { tone: 'ok', text: () => 'done' };
    enabled = false;
    await desk.refresh();
    expect(read).toHaveBeenCalledTimes(1);
    expect(desk.items).toEqual([]);
    expect(desk.loaded).toBe(false);
    expect(desk.notice).toBeNull();
    expect(desk.actionable).toBe(0);
  });

  it('drops an answer older than a later read', async () => {
    let first!: (v: AuthorizationItem[]) => void;
    read.mockImplementationOnce(() => new Promise((r) => (first = r)));
    read.mockImplementationOnce(async () => [item('new')]);
    const slow = desk.refresh();
    await desk.refresh();
    first([item('old')]);
    await slow;
    expect(desk.items.map((i) => i.case_id)).toEqual(['new']);
  });

  it('keeps the last queue and says why when a read fails', async () => {
    await desk.refresh();
    read.mockRejectedValueOnce({ code: 'unavailable', message: 'server away' });
    await desk.refresh();
    expect(desk.error?.code).toBe('unavailable');
    expect(desk.items).toHaveLength(2);
  });

  it('moves the clock for the waiting times', async () => {
    const before = desk.now;
    clock += TICK_MS;
    await vi.advanceTimersByTimeAsync(TICK_MS);
    expect(desk.now).toBe(before + TICK_MS);
  });

  it('opens the live channel once', () => {
    const follow = vi.fn(async () => null);
    const d = make({ follow });
    d.start();
    d.start();
    expect(follow).toHaveBeenCalledTimes(1);
    d.stop();
  });
});
