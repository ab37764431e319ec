/**
 * Where the app stands: which gate (set-up, sign-in, password change, lock) or which screen.
 * The shell holds the real session; this mirrors what it last said.
 */
import * as api from './api';
import type { SessionView } from './bindings/SessionView';
import { forgetDrafts } from './counter.svelte';
import { whenSessionEnds } from './action.svelte';
import { configure, forgetAll, useProbe } from './connection.svelte';

export type Phase =
  | 'loading'
  /** The embedded store waits for its branch passphrase to be chosen (new or plaintext store). */
  | 'store-passphrase-set'
  /** The embedded store is encrypted and waits for the branch passphrase (start of the day). */
  | 'store-locked'
  | 'setup'
  | 'signin'
  | 'change-password'
  | 'locked'
  | 'ready'
  | 'failed';

export type Route =
  | { name: 'today' }
  | { name: 'past' }
  | { name: 'counter'; caseId?: string | undefined }
  | { name: 'case'; caseId: string }
  /** The supervisors' queue (待授权), and one request of it opened to decide. */
  | { name: 'authorizations' }
  | { name: 'authorization'; caseId: string }
  | { name: 'admin' }
  /** The auditor's console (审计台); an administrator's retention and legal holds. */
  | { name: 'console' }
  | { name: 'import' }
  | { name: 'account' };

export const app = $state<{
  phase: Phase;
  session: SessionView | null;
  route: Route;
  notice: string;
  /** Why start-up failed (core's message, e.g. a damaged database and the restore route). */
  failure: string;
}>({ phase: 'loading', session: null, route: { name: 'today' }, notice: '', failure: '' });

/** The gate that follows from a session (or its absence). */
export function phaseOf(session: SessionView | null): Phase {
  if (!session) return 'signin';
  if (session.locked) return 'locked';
  if (session.staff.must_change_password) return 'change-password';
  return 'ready';
}

export function applySession(session: SessionView | null): void {
  const before = app.session?.staff.id;
  app.session = session;
  app.phase = phaseOf(session);
  if (session && session.staff.id !== before) app.route = defaultRoute(session);
}

export function defaultRoute(session: SessionView): Route {
  return session.staff.role === 'admin' ? { name: 'admin' } : { name: 'today' };
}

/**
 * First thing at start-up: a store waiting for its branch passphrase asks for it (or for a new
 * one), an empty store opens set-up, otherwise sign-in (or the session). Called again once the
 * passphrase has opened the store.
 */
export async function boot(): Promise<void> {
  try {
    // Alone or branch terminal: the header, the offline banner and the retries follow it.
    configure(await api.terminalMode());
    useProbe(api.serverStatus);
    whenSessionEnds(sessionEnded);
    const status = await api.setupStatus();
    if (status.store_key === 'passphrase-needed') {
      app.phase = 'store-locked';
      return;
    }
    if (status.store_key === 'passphrase-to-set') {
      app.phase = 'store-passphrase-set';
      return;
    }
    if (!status.set_up) {
      app.phase = 'setup';
      return;
    }
    applySession(await api.currentSession());
  } catch (e) {
    app.failure = (e as { message?: string } | null)?.message ?? '';
    app.phase = 'failed';
  }
}

/**
 * The branch server ended the session (idle minutes, revoked): lock the window without asking
 * the server (it may be away); the same person's password opens a new session and the
 * interrupted step continues (`Lock.svelte`).
 */
function sessionEnded(): void {
  if (app.session && app.phase !== 'locked') {
    app.session = { ...app.session, locked: true };
    app.phase = 'locked';
  }
}

export function go(route: Route): void {
  app.route = route;
}

export async function lockNow(): Promise<void> {
  applySession(await api.lockSession());
}

export async function signOut(): Promise<void> {
  try {
    await api.signOut();
  } finally {
    // What this person typed (full phone, wallet and card numbers) must not prefill the next
    // person's screens at this terminal, even when the shell did not answer.
    forgetDrafts();
    // Steps waiting for the server were this person's: nobody else's session sends them.
    forgetAll();
    api.forgetUnsettled();
  }
  app.session = null;
  app.phase = 'signin';
}
