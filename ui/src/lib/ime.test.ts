// Chinese input methods: the Enter that confirms a candidate (isComposing / keyCode 229) never
// submits a form or opens a row; a plain Enter still does.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushSync, mount, unmount } from 'svelte';
import CancelDialog from '../screens/counter/CancelDialog.svelte';
import CaseTable from '../components/CaseTable.svelte';
import { enterTo, isImeEnter, submitter } from './ime';
import { T } from './testids';
import type { CaseSummary } from './bindings/CaseSummary';

let mounted: ReturnType<typeof mount>[] = [];
afterEach(() => {
  for (const m of mounted) void unmount(m);
  mounted = [];
  document.body.innerHTML = '';
});

const imeEnter = { key: 'Enter', isComposing: true, keyCode: 229 } as const;
// WebKit: the confirming Enter comes after compositionend, marked only by keyCode 229.
const webkitImeEnter = { key: 'Enter', isComposing: false, keyCode: 229 } as const;

/**
 * A key press in a form field as the browser runs it: keydown, then (Enter) the form's implicit
 * submission in the same task. `force` submits even when the keydown was cancelled or composing,
 * as WebKit does for the 229 Enter: the guard must hold even then.
 */
function pressEnter(input: HTMLElement, init: KeyboardEventInit, force = true): void {
  const down = new KeyboardEvent('keydown', { bubbles: true, cancelable: true, ...init });
  input.dispatchEvent(down);
  if (force || !down.defaultPrevented) (input.closest('form') as HTMLFormElement).requestSubmit();
}

describe('IME Enter', () => {
  it('is recognised by isComposing or keyCode 229', () => {
    expect(isImeEnter(new KeyboardEvent('keydown', imeEnter))).toBe(true);
    expect(isImeEnter(new KeyboardEvent('keydown', webkitImeEnter))).toBe(true);
    expect(isImeEnter(new KeyboardEvent('keydown', { key: 'Enter' }))).toBe(false);
  });

  it('submits nothing through submitter(); a plain Enter submits', async () => {
    const fn = vi.fn();
    const form = document.createElement('form');
    const input = document.createElement('input');
    form.append(input);
    document.body.append(form);
    form.addEventListener('submit', submitter(fn));
    pressEnter(input, imeEnter);
    pressEnter(input, webkitImeEnter);
    expect(fn).not.toHaveBeenCalled();
    await new Promise((r) => setTimeout(r, 0));
    pressEnter(input, { key: 'Enter' }, false);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('does not confirm the cancel dialog (a real screen form)', async () => {
    const onconfirm = vi.fn(async () => {});
    const target = document.createElement('div');
    document.body.append(target);
    mounted.push(mount(CancelDialog, { target, props: { onconfirm, onclose: () => {} } }));
    flushSync();
    const reason = target.querySelector<HTMLInputElement>('#cancel-reason')!;
    reason.value = '客户';
    reason.dispatchEvent(new Event('input', { bubbles: true }));
    pressEnter(reason, imeEnter);
    pressEnter(reason, webkitImeEnter);
    flushSync();
    expect(onconfirm).not.toHaveBeenCalled();
    await new Promise((r) => setTimeout(r, 0));
    pressEnter(reason, { key: 'Enter' }, false);
    flushSync();
    expect(onconfirm).toHaveBeenCalledTimes(1);
  });

  it('does not open a case row; a plain Enter opens it', () => {
    const onopen = vi.fn();
    const row: CaseSummary = {
      id: 'c1', case_number: 'BJ001-20261129-0001', state: 'checked-in', customer_name: '张三', phone_masked: '131****6789',
      lock_cause: 'wrong-password', opened_at: '2026-11-29T01:00:00Z', updated_at: '2026-11-29T01:00:00Z', opened_by: 'tel01',
    } as CaseSummary;
    const target = document.createElement('div');
    document.body.append(target);
    mounted.push(mount(CaseTable, { target, props: { cases: [row], timeZone: 'Asia/Shanghai', onopen } }));
    flushSync();
    const tr = target.querySelector<HTMLElement>(`[data-testid="${T.caseRow}"]`)!;
    tr.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, cancelable: true, ...imeEnter }));
    tr.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, cancelable: true, ...webkitImeEnter }));
    expect(onopen).not.toHaveBeenCalled();
    tr.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, cancelable: true, key: 'Enter' }));
    expect(onopen).toHaveBeenCalledWith('c1');
    const plain = vi.fn();
    enterTo(plain)(new KeyboardEvent('keydown', { key: 'a' }));
    expect(plain).not.toHaveBeenCalled();
  });
});
