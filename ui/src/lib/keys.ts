/**
 * The counter's function keys, as tellers expect them on a bank terminal (keyboard-first):
 *
 *   F2   look up: the appointment lookup, or the document number of the current step
 *   F8   submit for authorization
 *   F10  the current step's primary action (check in, confirm identity, save form, print,
 *        confirm signed, authorize, confirm unlock, print receipt, close)
 *   Esc  back (a dialog closes itself first)
 *
 * Screens do not handle keys: they mark the element a key acts on with `data-key="lookup"`,
 * `"submit"` or `"primary"` (a list: `data-key="submit primary"`); `runKey` focuses a field or presses a button, the first one that
 * is visible and enabled. An IME composition, a modifier, or a key a dialog already took is
 * never a function key.
 */
import { isComposing } from './ime';

export type KeyAction = 'lookup' | 'submit' | 'primary' | 'back';

export const KEYMAP: Readonly<Record<string, KeyAction>> = {
  F2: 'lookup',
  F8: 'submit',
  F10: 'primary',
  Escape: 'back',
};

/** The hint bar's order: key caps and the action each stands for. */
export const HINTS: readonly { key: string; action: KeyAction }[] = [
  { key: 'F2', action: 'lookup' },
  { key: 'F8', action: 'submit' },
  { key: 'F10', action: 'primary' },
  { key: 'Esc', action: 'back' },
];

/** The function key action of a keydown, or null (not ours, composing, modified, taken). */
export function keyAction(e: KeyboardEvent): KeyAction | null {
  if (e.defaultPrevented || isComposing(e) || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return null;
  return KEYMAP[e.key] ?? null;
}

function shown(el: HTMLElement): boolean {
  if (!el.isConnected || el.closest('[hidden], [inert]')) return false;
  if (el.closest('details:not([open])') && !el.closest('summary')) return false;
  // A page without layout (unit tests) has no client rects at all: connected counts as shown.
  return el.getClientRects().length > 0 || document.body.getClientRects().length === 0;
}

/** The element `action` acts on inside `root`: the first shown, enabled `[data-key=action]`. */
export function keyTarget(root: ParentNode, action: KeyAction): HTMLElement | null {
  for (const el of root.querySelectorAll<HTMLElement>(`[data-key~="${action}"]`)) {
    if ((el as HTMLButtonElement).disabled || !shown(el)) continue;
    return el;
  }
  return null;
}

/** Runs `action` on its target: a field takes the focus, a button is pressed. */
export function runKey(root: ParentNode, action: KeyAction): boolean {
  const el = keyTarget(root, action);
  if (!el) return false;
  if (el instanceof HTMLButtonElement) el.click();
  else {
    el.focus();
    if (el instanceof HTMLInputElement) el.select();
  }
  return true;
}

/**
 * Listens for the function keys on `target` while a screen is shown; `handlers` decide, and
 * return false to let the key go on (e.g. Esc with nothing to go back to). Returns the stop
 * function (an `$effect` cleanup). A modal dialog open on the page takes every key but its own.
 */
export function bindKeys(
  handlers: Partial<Record<KeyAction, () => boolean | void>>,
  target: EventTarget = window,
): () => void {
  const onkeydown = (ev: Event) => {
    const e = ev as KeyboardEvent;
    const action = keyAction(e);
    if (!action) return;
    const handler = handlers[action];
    if (!handler) return;
    if (typeof document !== 'undefined' && document.querySelector('[aria-modal="true"]')) return;
    if (handler() === false) return;
    e.preventDefault();
  };
  target.addEventListener('keydown', onkeydown);
  return () => target.removeEventListener('keydown', onkeydown);
}
