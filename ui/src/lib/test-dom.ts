// DOM helpers shared by the screen tests (`*.test.ts`): find by test id, mount into the page,
// let Svelte and the mocked backend settle, type and click. Only tests import this file, so it is
// type-checked with the rest of `src` but never part of the app's bundle.
import { expect } from 'vitest';
import { flushSync, mount, tick, unmount, type Component } from 'svelte';

/** The element with test id `id` under `root` (`extra` narrows the selector, e.g. `' input'`). */
export const q = <E extends Element = HTMLElement>(root: ParentNode, id: string, extra = '') =>
  root.querySelector<E>(`[data-testid="${id}"]${extra}`);
/** Every element with test id `id` under `root`, in document order. */
export const qa = <E extends Element = HTMLElement>(root: ParentNode, id: string, extra = '') => [
  ...root.querySelectorAll<E>(`[data-testid="${id}"]${extra}`),
];

export interface Settling {
  /** Let a timer turn (`setTimeout 0`) pass after each tick as well (default): mocked commands
   *  answer from async functions, so their answers land only then. */
  timers?: boolean;
}
/** Six rounds of Svelte's `tick` (each followed by a timer turn unless `timers: false`), then a flush. */
export async function settle({ timers = true }: Settling = {}) {
  for (let i = 0; i < 6; i++) {
    await tick();
    if (timers) await new Promise((r) => setTimeout(r, 0));
  }
  flushSync();
}

let mounted: ReturnType<typeof mount>[] = [];
/** Mounts `component` with `props` into a new div on `document.body`, settles, returns the div. */
export async function render<P extends Record<string, any>>(component: Component<P>, props: P, settling: Settling = {}): Promise<HTMLElement> {
  const target = document.createElement('div');
  document.body.appendChild(target);
  mounted.push(mount(component, { target, props }));
  await settle(settling);
  return target;
}
/** Unmounts everything `render` mounted (the divs stay on the page). */
export function unmountAll() {
  for (const m of mounted) void unmount(m);
  mounted = [];
}

/** Types `value` into a field: `input` for inputs and text areas, `change` for a select. */
export function type(el: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement | null, value: string) {
  expect(el).not.toBeNull();
  el!.value = value;
  if (el!.tagName === 'SELECT') {
    // Svelte reads a select's choice as its `:checked` option, which happy-dom does not match.
    const select = el as HTMLSelectElement;
    const own = select.querySelector.bind(select);
    select.querySelector = ((sel: string) => (sel === ':checked' ? (select.selectedOptions[0] ?? null) : own(sel))) as typeof select.querySelector;
  }
  el!.dispatchEvent(new Event(el!.tagName === 'SELECT' ? 'change' : 'input', { bubbles: true }));
  flushSync();
}
/** Clicks `el` (which must be there) and settles. */
export async function click(el: HTMLElement | null) {
  expect(el).not.toBeNull();
  el!.click();
  await settle();
}

/** `calls(cmd)`: the arguments of every call of the mocked `invoke` with command `cmd`, in order. */
export const callsOf =
  (invoke: { mock: { calls: unknown[][] } }) =>
  (cmd: string): Record<string, unknown>[] =>
    invoke.mock.calls.filter(([c]) => c === cmd).map(([, args]) => args as Record<string, unknown>);
