/**
 * A branch terminal's link to the branch server as the teller sees it: whether the server
 * answers, and the steps waiting for it.
 *
 * When a call fails with `unavailable` (the server cannot be reached, or answers 503) the
 * action that made it waits here instead of failing: the screen keeps everything typed, a
 * banner names the server, and the shell is asked every few seconds whether the server is
 * back (`server_status`). When it is, each waiting action is sent again with the same
 * arguments, so a case step goes again with the same idempotency key: the server applies it at
 * most once, and a step whose answer was lost learns its outcome.
 *
 * When the server ended the session meanwhile (`session-locked` on the retry), the window
 * locks; the same person types the password, and the waiting steps continue after the unlock
 * ({@link resumeAfterUnlock}).
 *
 * A terminal working alone never waits: its store is on the same machine.
 */
import type { ServerStatus } from './bindings/ServerStatus';
import type { TerminalMode } from './bindings/TerminalMode';

/** Something that can be sent again: resolves once it is settled or waiting again. */
export interface Waiting {
  resume(): Promise<void>;
}

function fresh() {
  return {
    /** This terminal works through a branch server. */
    branch: false,
    server: '',
    terminalId: '',
    /** The server did not answer the last call. */
    offline: false,
    /** When it stopped answering (ms since the epoch), for "since 10:32". */
    since: 0,
    /** How many actions wait to be sent again. */
    waiting: 0,
    /** The server showed a certificate other than the pinned one: the terminal stops. */
    certificateMismatch: false,
    /** The shell's sentence for the mismatch (which server, which fingerprints). */
    mismatchMessage: '',
  };
}

export const connection = $state(fresh());

const queue = new Set<Waiting>();
const afterUnlock = new Set<Waiting>();
/**
 * Which person's steps may wait: raised at every sign-out ({@link forgetAll}). An action that
 * started under an older epoch is never queued or sent again: a step still in flight when its
 * teller signed out must not be applied as the next person.
 */
let epoch = 0;
export function currentEpoch(): number {
  return epoch;
}

/** Set from the shell's `terminal_mode` at start (and after a change of mode). */
export function configure(mode: TerminalMode): void {
  connection.branch = mode.branch;
  connection.server = mode.server ?? '';
  connection.terminalId = mode.terminal_id ?? '';
}

export type Probe = () => Promise<ServerStatus>;
export type Sleep = (ms: number) => Promise<void>;

let probe: Probe | null = null;
let sleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let intervalMs = 2000;
let probing = false;

/** The shell's reachability probe (and, for tests, the clock). */
export function useProbe(p: Probe, opts: { sleep?: Sleep; intervalMs?: number } = {}): void {
  probe = p;
  if (opts.sleep) sleep = opts.sleep;
  if (opts.intervalMs !== undefined) intervalMs = opts.intervalMs;
}

/** A call failed with `unavailable`: show the banner and start asking whether it is back. */
export function reportOffline(): void {
  if (!connection.branch) return;
  if (!connection.offline) {
    connection.offline = true;
    connection.since = Date.now();
  }
  void watch();
}

/** A call got an answer: the server is there. Waiting actions are sent again. */
export function reportOnline(): void {
  if (!connection.offline) return;
  connection.offline = false;
  void flush();
}

/** The server showed another certificate than the pinned one. */
export function reportCertificateMismatch(message: string): void {
  connection.certificateMismatch = true;
  connection.mismatchMessage = message;
}

/** `w` waits for the server (its call failed with `unavailable`). */
export function wait(w: Waiting): void {
  queue.add(w);
  connection.waiting = queue.size + afterUnlock.size;
  reportOffline();
}

/** `w` waits for the same person to sign in again (the server ended the session). */
export function waitForUnlock(w: Waiting): void {
  afterUnlock.add(w);
  connection.waiting = queue.size + afterUnlock.size;
}

/** Whether `w` is waiting (either way). */
export function isWaiting(w: Waiting): boolean {
  return queue.has(w) || afterUnlock.has(w);
}

/** Drop `w` (its screen gave up on it, e.g. the teller signed out). */
export function forget(w: Waiting): void {
  queue.delete(w);
  afterUnlock.delete(w);
  connection.waiting = queue.size + afterUnlock.size;
}

/** Everything waiting is dropped (sign-out: the next person's steps are their own). */
export function forgetAll(): void {
  epoch += 1;
  queue.clear();
  afterUnlock.clear();
  connection.waiting = 0;
}

/** Sends every waiting action again, one after the other, in the order they failed. */
export async function flush(): Promise<void> {
  const now = [...queue];
  queue.clear();
  connection.waiting = afterUnlock.size;
  for (const w of now) await w.resume();
  connection.waiting = queue.size + afterUnlock.size;
}

/** After the unlock: the steps interrupted by the ended session continue. */
export async function resumeAfterUnlock(): Promise<void> {
  const now = [...afterUnlock];
  afterUnlock.clear();
  connection.waiting = queue.size;
  for (const w of now) await w.resume();
  connection.waiting = queue.size + afterUnlock.size;
}

/** While offline, asks every `intervalMs` whether the server answers; one loop at a time. */
async function watch(): Promise<void> {
  if (probing || !probe) return;
  probing = true;
  try {
    while (connection.offline && !connection.certificateMismatch) {
      await sleep(intervalMs);
      let status: ServerStatus | null = null;
      try {
        status = await probe();
      } catch {
        status = null;
      }
      if (status?.certificate_mismatch) {
        reportCertificateMismatch(status.message ?? '');
        return;
      }
      if (status?.reachable) {
        connection.offline = false;
        await flush();
      }
    }
  } finally {
    probing = false;
  }
}

/** For tests: back to a fresh start. */
export function resetConnection(): void {
  forgetAll();
  probing = false;
  probe = null;
  sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  intervalMs = 2000;
  Object.assign(connection, fresh());
}
