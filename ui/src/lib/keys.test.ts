import { afterEach, describe, expect, it, vi } from 'vitest';
import { HINTS, KEYMAP, bindKeys, keyAction, keyTarget, runKey } from './keys';
import { hasKey } from './i18n/index.svelte';

const key = (k: string, init: KeyboardEventInit = {}) => new KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true, ...init });

afterEach(() => {
  document.body.innerHTML = '';
});

describe('counter function keys', () => {
  it('map F2, F8, F10 and Esc', () => {
    expect(keyAction(key('F2'))).toBe('lookup');
    expect(keyAction(key('F8'))).toBe('submit');
    expect(keyAction(key('F10'))).toBe('primary');
    expect(keyAction(key('Escape'))).toBe('back');
    expect(keyAction(key('Enter'))).toBeNull();
    expect(keyAction(key('F5'))).toBeNull();
  });

  it('are not function keys while composing, with a modifier, or once taken', () => {
    expect(keyAction(key('Escape', { isComposing: true }))).toBeNull();
    expect(keyAction(key('F10', { keyCode: 229 }))).toBeNull();
    expect(keyAction(key('F10', { ctrlKey: true }))).toBeNull();
    const taken = key('Escape');
    taken.preventDefault();
    expect(keyAction(taken)).toBeNull();
  });

  it('act on the first shown, enabled target: a field is focused, a button pressed', () => {
    document.body.innerHTML = `
      <details><summary>x</summary><button data-key="primary" id="hidden">h</button></details>
      <button data-key="primary" id="off" disabled>off</button>
      <button data-key="primary" id="on">on</button>
      <input data-key="lookup" id="q" value="1234" />`;
    expect(keyTarget(document, 'primary')?.id).toBe('on');
    const clicked = vi.fn();
    document.getElementById('on')!.addEventListener('click', clicked);
    expect(runKey(document, 'primary')).toBe(true);
    expect(clicked).toHaveBeenCalledTimes(1);
    expect(runKey(document, 'lookup')).toBe(true);
    expect(document.activeElement?.id).toBe('q');
    expect(runKey(document, 'submit')).toBe(false);
  });

  it('bindKeys runs the handler and takes the key; a modal dialog keeps the keys', () => {
    const primary = vi.fn();
    const back = vi.fn(() => false);
    const stop = bindKeys({ primary, back }, document);
    const f10 = key('F10');
    document.body.dispatchEvent(f10);
    expect(primary).toHaveBeenCalledTimes(1);
    expect(f10.defaultPrevented).toBe(true);
    const esc = key('Escape');
    document.body.dispatchEvent(esc);
    expect(back).toHaveBeenCalledTimes(1);
    expect(esc.defaultPrevented).toBe(false);
    document.body.innerHTML = '<div role="dialog" aria-modal="true"></div>';
    document.body.dispatchEvent(key('F10'));
    expect(primary).toHaveBeenCalledTimes(1);
    stop();
    document.body.innerHTML = '';
    document.body.dispatchEvent(key('F10'));
    expect(primary).toHaveBeenCalledTimes(1);
  });

  it('every key of the hint bar is mapped and worded in the dictionaries', () => {
    for (const h of HINTS) {
      expect(Object.values(KEYMAP)).toContain(h.action);
      expect(hasKey(`keys.${h.action}`)).toBe(true);
    }
  });
});
