// The past-case browser: the first search is the last 30 days, core's flag shows on the rows it
// marks, the quick filter and the choices ask core again, a range core would refuse is named
// beside its field without asking, a page reads on from the last row, and a row opens the case
// on click or Enter (never on the Enter that confirms an IME candidate).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.hoisted(() => vi.fn());
vi.mock('@tauri-apps/api/core', () => ({ invoke }));

import PastCases from './PastCases.svelte';
import { app } from '../lib/app.svelte';
import { setLocale } from '../lib/i18n/index.svelte';
import { T } from '../lib/testids';
import { q, qa, render as renderComponent, settle as settleDom, unmountAll } from '../lib/test-dom';
import type { CaseFilters } from '../lib/bindings/CaseFilters';
import type { CasePage } from '../lib/bindings/CasePage';
import type { CaseQuery } from '../lib/bindings/CaseQuery';
import type { CaseSummary } from '../lib/bindings/CaseSummary';

const filters: CaseFilters = {
  today: '2026-11-29',
  tellers: [
    { id: 'tel01', name: '柜员甲', disabled: false },
    { id: 'tel09', name: '柜员旧', disabled: true },
  ],
  operators: ['运营机构A', '钱包运营机构B'],
};

const row = (n: number, state: CaseSummary['state'], day: string, left: boolean): CaseSummary => ({
  id: `c${n}`,
  case_number: `T1-${day.replaceAll('-', '')}-000${n}`,
  state,
  customer_name: '张*',
  phone_masked: '131****6789',
  lock_cause: 'wrong-password',
  opened_at: `${day}T02:00:00Z`,
  opened_day: day,
  updated_at: `${day}T02:00:00Z`,
  opened_by: 'tel01',
  appointment_id: null,
  wallet_operator: '运营机构A',
  open_from_earlier_day: left,
});

const page1: CasePage = {
  cases: [row(1, 'returned-for-info', '2026-11-28', true), row(2, 'closed', '2026-11-27', false)],
  more: true,
  next: { opened_day: '2026-11-27', opened_at: '2026-11-27T02:00:00Z', case_number: 'T1-20261127-0002' },
  today: '2026-11-29',
  staff: { tel01: '柜员甲' },
};
const page2: CasePage = { ...page1, cases: [row(3, 'unlocked', '2026-11-20', true)], more: false, next: null };

let queries: CaseQuery[] = [];

/** This file has always settled on ticks alone, without the timer turns the other screen tests wait for. */
const settle = () => settleDom({ timers: false });

async function render(): Promise<HTMLElement> {
  invoke.mockImplementation(async (command: string, args?: { query: CaseQuery }) => {
    if (command === 'case_filters') return filters;
    if (command === 'list_cases') {
      queries.push(args!.query);
      return args!.query.after ? page2 : page1;
    }
    throw { code: 'invalid', message: `unexpected ${command}` };
  });
  return renderComponent(PastCases, {}, { timers: false });
}

const rows = (root: HTMLElement) => qa(root, T.pastRow);

beforeEach(() => {
  invoke.mockReset();
  queries = [];
  setLocale('zh-CN');
  app.route = { name: 'past' };
});
afterEach(() => {
  unmountAll();
  document.body.innerHTML = '';
});

describe('past cases', () => {
  it('first asks for the last 30 days and shows core\'s flag and the teller by name', async () => {
    const root = await render();
    expect(queries[0]).toMatchObject({ from: '2026-10-31', to: '2026-11-29', states: [], open_from_earlier_day: false, after: null });
    const r = rows(root);
    expect(r.map((e) => e.dataset.caseNumber)).toEqual(['T1-20261128-0001', 'T1-20261127-0002']);
    expect(r[0]!.querySelector(`[data-testid="${T.pastLeftOpenFlag}"]`)?.textContent).toBe('隔日未办结');
    expect(r[1]!.querySelector(`[data-testid="${T.pastLeftOpenFlag}"]`)).toBeNull();
    expect(r[0]!.textContent).toContain('柜员甲（tel01）');
    expect(r[0]!.textContent).toContain('退回补正');
    const tellers = [...q(root, T.pastTeller)!.querySelectorAll('option')].map((o) => o.textContent);
    expect(tellers).toEqual(['全部柜员', '柜员甲 · tel01', '柜员旧 · tel09（已停用）']);
    setLocale('en');
    await settle();
    expect(q(root, T.pastTeller)!.querySelectorAll('option')[2]!.textContent).toBe('柜员旧 · tel09 (disabled)');
    setLocale('zh-CN');
    expect(q(root, T.pastCount)!.dataset.more).toBe('true');
  });

  it('asks again for the quick filter and each choice', async () => {
    const root = await render();
    q(root, T.pastLeftOpenOnly)!.click();
    await settle();
    expect(queries.at(-1)).toMatchObject({ open_from_earlier_day: true });
    expect(q(root, T.pastLeftOpenOnly)!.getAttribute('aria-pressed')).toBe('true');
    const teller = q(root, T.pastTeller)! as HTMLSelectElement;
    teller.value = 'tel09';
    teller.dispatchEvent(new Event('change', { bubbles: true }));
    await settle();
    expect(queries.at(-1)).toMatchObject({ opened_by: 'tel09', open_from_earlier_day: true });
    const state = q(root, T.pastState)! as HTMLSelectElement;
    state.value = 'unlocked';
    state.dispatchEvent(new Event('change', { bubbles: true }));
    await settle();
    expect(queries.at(-1)).toMatchObject({ states: ['unlocked'], opened_by: 'tel09' });
  });

  it('names a reversed range beside its field without asking core', async () => {
    const root = await render();
    const asked = queries.length;
    const from = q(root, T.pastFrom)! as HTMLInputElement;
    from.value = '2026/12/1';
    from.dispatchEvent(new Event('input'));
    q(root, T.pastSearch)!.click();
    await settle();
    expect(queries.length).toBe(asked);
    expect(from.value).toBe('2026-12-01');
    const to = q(root, T.pastTo)!;
    expect(to.getAttribute('aria-invalid')).toBe('true');
    expect(to.parentElement!.querySelector('[role=alert]')?.textContent).toBe('截止日期不能早于起始日期');
  });

  it('reads on from the last row, and a row opens on click or Enter but not on an IME Enter', async () => {
    const root = await render();
    q(root, T.pastLoadMore)!.click();
    await settle();
    expect(queries.at(-1)!.after).toEqual(page1.next);
    expect(rows(root).map((e) => e.dataset.caseNumber)).toEqual(['T1-20261128-0001', 'T1-20261127-0002', 'T1-20261120-0003']);
    expect(root.querySelector(`[data-testid="${T.pastLoadMore}"]`)).toBeNull();

    const third = rows(root)[2]!;
    third.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', isComposing: true, bubbles: true }));
    expect(app.route).toEqual({ name: 'past' });
    third.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    expect(app.route).toEqual({ name: 'case', caseId: 'c3' });
    app.route = { name: 'past' };
    rows(root)[0]!.click();
    expect(app.route).toEqual({ name: 'case', caseId: 'c1' });
  });

  it('reads on with the last search, not with a date typed since without pressing Search', async () => {
    const root = await render();
    const from = q(root, T.pastFrom)! as HTMLInputElement;
    from.value = '2026-11-01';
    from.dispatchEvent(new Event('input'));
    await settle();
    q(root, T.pastLoadMore)!.click();
    await settle();
    expect(queries.at(-1)).toEqual({ ...queries[0], after: page1.next });
    expect(queries[0]!.from).not.toBe('2026-11-01');
  });

  it('runs a filter changed while a search is pending once it ends, and drops the stale answer', async () => {
    const root = await render();
    // Hold the answers back: each list_cases resolves only when the test says so.
    const held: { query: CaseQuery; answer: (p: CasePage) => void }[] = [];
    invoke.mockImplementation((command: string, args?: { query: CaseQuery }) => {
      if (command !== 'list_cases') throw { code: 'invalid', message: `unexpected ${command}` };
      queries.push(args!.query);
      return new Promise<CasePage>((answer) => held.push({ query: args!.query, answer }));
    });
    const asked = queries.length;
    // The screen keeps the filters of the last search (module state shared by these tests).
    const leftOpen = q(root, T.pastLeftOpenOnly)!.getAttribute('aria-pressed') === 'true';
    const state = q(root, T.pastState)! as HTMLSelectElement;
    state.value = 'closed';
    state.dispatchEvent(new Event('change', { bubbles: true }));
    await settle();
    q(root, T.pastLeftOpenOnly)!.click(); // while the first is pending
    await settle();
    expect(queries.length).toBe(asked + 1);
    expect(q(root, T.pastLeftOpenOnly)!.getAttribute('aria-pressed')).toBe(String(!leftOpen));

    held[0]!.answer({ ...page1, cases: [row(2, 'closed', '2026-11-27', false)], more: false, next: null });
    await settle();
    // The stale answer is not shown; the newest filters are asked for.
    expect(queries.length).toBe(asked + 2);
    expect(queries.at(-1)).toMatchObject({ states: ['closed'], open_from_earlier_day: !leftOpen, after: null });
    expect(rows(root).map((e) => e.dataset.caseNumber)).toEqual(['T1-20261128-0001', 'T1-20261127-0002']);

    held[1]!.answer({ ...page1, cases: [], more: false, next: null });
    await settle();
    expect(rows(root)).toEqual([]);
    expect(q(root, T.pastCount)!.dataset.count).toBe('0');
  });
});
