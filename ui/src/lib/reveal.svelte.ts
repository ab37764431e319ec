/**
 * Audited reveal of a masked personal value (docs/domain.md §5). The screen asks
 * for a reason, core checks the role and the reason and audits the read (`reveal`), and the full
 * value is shown in place for 30 seconds, then masked again. A second reveal of the same field
 * restarts the count; leaving the screen hides everything (`hideAll`). The value lives only in
 * this object's memory: it is never logged nor stored.
 */
import { ApiError, toApiError } from './errors';
import type { FieldError } from './bindings/FieldError';
import type { RevealField } from './bindings/RevealField';

/** How long a revealed value stays visible. */
export const REVEAL_SECONDS = 30;

/** Asks core for the full value (`api.revealValue` bound to the case). */
export type RevealFetch = (field: RevealField, reason: string) => Promise<string>;

type Shown = { value: string; left: number };

export class Reveals {
  /** Fields shown in full now, with the seconds left. */
  shown = $state<Partial<Record<RevealField, Shown>>>({});
  /** The field whose reason dialog is open. */
  asking = $state<RevealField | null>(null);
  pending = $state(false);
  /** Core's refusal of the last attempt (shown beside the reason field). */
  error = $state<ApiError | null>(null);

  #fetch: RevealFetch;
  #seconds: number;
  #timers = new Map<RevealField, ReturnType<typeof setInterval>>();
  /** Bumped by `hideAll`, so an answer arriving after leaving the screen is dropped. */
  #epoch = 0;

  constructor(fetch: RevealFetch, seconds = REVEAL_SECONDS) {
    this.#fetch = fetch;
    this.#seconds = seconds;
  }

  /** Open the reason dialog for one field. */
  ask(field: RevealField): void {
    this.asking = field;
    this.error = null;
  }

  /** Close the dialog without revealing. */
  cancel(): void {
    this.asking = null;
    this.error = null;
  }

  /** Send the reason to core; on success show the value and close the dialog. */
  async confirm(reason: string): Promise<boolean> {
    const field = this.asking;
    if (field === null || this.pending) return false;
    const epoch = this.#epoch;
    this.pending = true;
    this.error = null;
    try {
      const value = await this.#fetch(field, reason);
      if (epoch !== this.#epoch) return false;
      this.#show(field, value);
      this.asking = null;
      return true;
    } catch (e) {
      if (epoch === this.#epoch) this.error = toApiError(e);
      return false;
    } finally {
      this.pending = false;
    }
  }

  /** The error beside the reason field: core's own for `reason`, else the refusal as a whole. */
  get reasonError(): FieldError | undefined {
    const e = this.error;
    if (!e) return undefined;
    return e.fieldMap()['reason'] ?? { field: 'reason', rule: e.code, message: e.message };
  }

  /** The full value while it is shown, else `undefined`. */
  value(field: RevealField): string | undefined {
    return this.shown[field]?.value;
  }

  /** Seconds until the value is masked again (0 when masked). */
  left(field: RevealField): number {
    return this.shown[field]?.left ?? 0;
  }

  hide(field: RevealField): void {
    const timer = this.#timers.get(field);
    if (timer !== undefined) clearInterval(timer);
    this.#timers.delete(field);
    delete this.shown[field];
  }

  /** Mask everything and close the dialog (leaving the screen, another case, sign-out). */
  hideAll(): void {
    this.#epoch += 1;
    for (const field of [...this.#timers.keys()]) this.hide(field);
    this.shown = {};
    this.asking = null;
    this.error = null;
  }

  #show(field: RevealField, value: string): void {
    this.hide(field);
    this.shown[field] = { value, left: this.#seconds };
    const timer = setInterval(() => {
      const s = this.shown[field];
      if (!s || s.left <= 1) this.hide(field);
      else s.left -= 1;
    }, 1000);
    this.#timers.set(field, timer);
  }
}
