import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { Action, whenSessionEnds } from './action.svelte';
import * as api from './api';
import {
  configure,
  connection,
  flush,
  forgetAll,
  resetConnection,
  resumeAfterUnlock,
  useProbe,
} from './connection.svelte';
import type { ServerStatus } from './bindings/ServerStatus';

const BRANCH = {
  branch: true,
  source: 'environment' as const,
  server: 'https://branch.example:8443',
  terminal_id: 'term-0123456789ab',
  fingerprint: 'SHA256:AB',
};
const down = { code: 'unavailable', message: 'the branch server cannot be reached', fields: [] };

/** A fake branch server behind the shell: its steps by idempotency key, and whether it is up. */
function fakeServer() {
  const server = { up: true, expired: false, applied: new Map<string, number>(), calls: 0, probes: 0 };
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    if (cmd === 'server_status') {
      server.probes += 1;
      const s: ServerStatus = {
        reachable: server.up,
        server: BRANCH.server,
        store: server.up ? 'ok' : null,
        message: server.up ? null : 'refused',
        certificate_mismatch: false,
      };
      return s;
    }
    if (cmd === 'submit_case') {
      server.calls += 1;
      if (!server.up) throw down;
      if (server.expired) throw { code: 'session-locked', message: 'session expired', fields: [] };
      const key = a['idem'] as string;
      server.applied.set(key, (server.applied.get(key) ?? 0) + 1);
      return { case: { id: a['caseId'], state: 'submitted' } };
    }
    if (cmd === 'sign_in') {
      server.calls += 1;
      if (!server.up) throw down;
      return null;
    }
    return null;
  });
  return server;
}

/** Lets the probe loop's sleeps pass at once (they are awaited, so the loop still yields). */
async function settle(rounds = 20) {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0));
}

beforeEach(() => {
  resetConnection();
  configure(BRANCH);
  useProbe(api.serverStatus, { sleep: () => Promise.resolve(), intervalMs: 0 });
});
afterEach(() => {
  clearMocks();
  resetConnection();
});

describe('the offline queue', () => {
  it('a step that finds the server away waits, keeps its key, and is applied once when it is back', async () => {
    const server = fakeServer();
    server.up = false;
    let probesWhileDown = 0;
    useProbe(
      async () => {
        const s = await api.serverStatus();
        if (!s.reachable) probesWhileDown += 1;
        // The server comes back after a few probes.
        if (probesWhileDown >= 3) server.up = true;
        return s;
      },
      { sleep: () => Promise.resolve(), intervalMs: 0 },
    );
    let outcome: unknown = null;
    const key = 'key-1';
    const submit = new Action(async () => {
      outcome = await api.submitCase('case-1', key);
    });
    expect(await submit.run()).toBeUndefined();
    // Still pending: the button stays disabled, the banner shows, nothing was applied.
    expect(submit.pending).toBe(true);
    expect(submit.waiting).toBe(true);
    expect(submit.error?.code).toBe('unavailable');
    expect(connection.offline).toBe(true);
    expect(connection.waiting).toBe(1);
    await settle();
    expect(connection.offline).toBe(false);
    expect(server.applied.get(key)).toBe(1);
    expect(outcome).toMatchObject({ case: { state: 'submitted' } });
    expect(submit.pending).toBe(false);
    expect(submit.error).toBeNull();
    expect(connection.waiting).toBe(0);
  });

  it('a second press while waiting sends nothing', async () => {
    const server = fakeServer();
    server.up = false;
    useProbe(async () => ({ ...(await api.serverStatus()), reachable: false }), {
      sleep: () => new Promise((r) => setTimeout(r, 5)),
      intervalMs: 0,
    });
    const submit = new Action(() => api.submitCase('case-1', 'key-2'));
    await submit.run();
    const before = server.calls;
    expect(await submit.run()).toBeUndefined();
    expect(server.calls).toBe(before);
    forgetAll();
    connection.offline = false;
  });

  it('a retry that fails for a reason of the case ends the wait and shows that reason', async () => {
    mockIPC((cmd) => {
      if (cmd === 'server_status') return { reachable: true, server: BRANCH.server, store: 'ok', message: null, certificate_mismatch: false };
      throw calls++ === 0 ? down : { code: 'illegal-transition', message: 'already submitted', fields: [] };
    });
    let calls = 0;
    const submit = new Action(() => api.submitCase('case-1', 'key-3'));
    await submit.run();
    expect(submit.waiting).toBe(true);
    await settle();
    expect(submit.pending).toBe(false);
    expect(submit.waiting).toBe(false);
    expect(submit.error?.code).toBe('illegal-transition');
    expect(connection.waiting).toBe(0);
  });

  it('steps waiting together are sent again in the order they failed', async () => {
    const order: string[] = [];
    let up = false;
    mockIPC((cmd, args) => {
      if (cmd === 'server_status') return { reachable: up, server: BRANCH.server, store: null, message: null, certificate_mismatch: false };
      if (!up) throw down;
      order.push((args as { idem: string }).idem);
      return { case: { state: 'submitted' } };
    });
    useProbe(api.serverStatus, { sleep: () => new Promise((r) => setTimeout(r, 1)), intervalMs: 0 });
    const a = new Action(() => api.submitCase('c1', 'first'));
    const b = new Action(() => api.submitCase('c2', 'second'));
    await a.run();
    await b.run();
    expect(connection.waiting).toBe(2);
    up = true;
    await settle(40);
    expect(order).toEqual(['first', 'second']);
    expect(connection.waiting).toBe(0);
  });

  it('a session ended while the server was away locks the window, and the step continues after the unlock', async () => {
    const server = fakeServer();
    server.up = false;
    let locked = 0;
    whenSessionEnds(() => (locked += 1));
    const submit = new Action(() => api.submitCase('case-1', 'key-4'));
    await submit.run();
    server.up = true;
    server.expired = true;
    await settle();
    // The retry met the ended session: the window locked, the step still waits.
    expect(locked).toBe(1);
    expect(submit.waiting).toBe(true);
    expect(submit.pending).toBe(true);
    expect(server.applied.size).toBe(0);
    // The same person signs in again; the step goes with its key, once.
    server.expired = false;
    await resumeAfterUnlock();
    expect(server.applied.get('key-4')).toBe(1);
    expect(submit.pending).toBe(false);
    expect(connection.waiting).toBe(0);
  });

  it('a terminal working alone never waits: the error is shown at once', async () => {
    configure({ branch: false, source: 'alone', server: null, terminal_id: null, fingerprint: null });
    const server = fakeServer();
    server.up = false;
    const submit = new Action(() => api.submitCase('case-1', 'key-5'));
    await submit.run();
    expect(submit.pending).toBe(false);
    expect(submit.error?.code).toBe('unavailable');
    expect(connection.offline).toBe(false);
    await flush();
    expect(server.calls).toBe(1);
  });

  it('sign-out drops what waits: the next person never sends the last one\'s steps', async () => {
    const server = fakeServer();
    server.up = false;
    useProbe(async () => ({ ...(await api.serverStatus()), reachable: false }), {
      sleep: () => new Promise((r) => setTimeout(r, 5)),
      intervalMs: 0,
    });
    const submit = new Action(() => api.submitCase('case-1', 'key-6'));
    await submit.run();
    forgetAll();
    server.up = true;
    await flush();
    await resumeAfterUnlock();
    expect(server.applied.size).toBe(0);
    connection.offline = false;
  });

  it('a certificate other than the pinned one stops the terminal', async () => {
    mockIPC(() => {
      throw { code: 'certificate-mismatch', message: 'STOP: the branch server shows another certificate', fields: [] };
    });
    const sign = new Action(() => api.signIn('tel01', 'pw'));
    await sign.run();
    expect(connection.certificateMismatch).toBe(true);
    expect(connection.mismatchMessage).toContain('STOP');
    expect(sign.pending).toBe(false);
  });

  it('a step sent again sends what it sent first, even when the fields were edited while it waited', async () => {
    const sent: string[] = [];
    let up = false;
    mockIPC((cmd, args) => {
      if (cmd === 'server_status') return { reachable: up, server: BRANCH.server, store: null, message: null, certificate_mismatch: false };
      const a = args as { input: { ticket: string } };
      sent.push(a.input.ticket);
      if (!up) throw down;
      return { case: { state: 'checked-in' } };
    });
    const draft = { ticket: 'T-1' };
    const add = new Action(() => api.logContact('c1', { channel: 'phone', ticket: draft.ticket, result: 'ok' }, 'key-7'));
    await add.run();
    draft.ticket = 'T-2 (typed while waiting)';
    up = true;
    await settle();
    expect(sent).toEqual(['T-1', 'T-1']);
    expect(add.pending).toBe(false);
    // Answered: the next press with a new key sends what is on screen now.
    const next = new Action(() => api.logContact('c1', { channel: 'phone', ticket: draft.ticket, result: 'ok' }, 'key-8'));
    await next.run();
    expect(sent.at(-1)).toBe('T-2 (typed while waiting)');
  });

  it('a refusal forgets what was sent: the corrected step goes with the same key', async () => {
    const sent: string[] = [];
    let calls = 0;
    mockIPC((_cmd, args) => {
      const a = args as { input: { ticket: string } };
      sent.push(a.input.ticket);
      calls += 1;
      if (calls === 1) throw down;
      if (calls === 2) throw { code: 'invalid', message: 'ticket', fields: [{ field: 'ticket', rule: 'format', message: 'x' }] };
      return { case: {} };
    });
    const draft = { ticket: 'bad' };
    const add = new Action(() => api.logContact('c1', { channel: 'phone', ticket: draft.ticket, result: 'ok' }, 'key-9'));
    await add.run();
    await add.resume();
    expect(add.error?.code).toBe('invalid');
    draft.ticket = 'good';
    await add.run();
    expect(sent).toEqual(['bad', 'bad', 'good']);
  });

  it('a step in flight when its teller signs out is never queued nor sent as the next person', async () => {
    let release: () => void = () => {};
    let calls = 0;
    mockIPC(async (cmd) => {
      if (cmd === 'server_status') return { reachable: true, server: BRANCH.server, store: 'ok', message: null, certificate_mismatch: false };
      calls += 1;
      await new Promise<void>((r) => (release = r));
      throw down;
    });
    const submit = new Action(() => api.submitCase('case-1', 'key-10'));
    const running = submit.run();
    await settle(2);
    forgetAll(); // the teller signs out while the call hangs
    release();
    await running;
    expect(submit.pending).toBe(false);
    expect(submit.waiting).toBe(false);
    expect(connection.waiting).toBe(0);
    await flush();
    await resumeAfterUnlock();
    expect(calls).toBe(1);
  });

  it('sign-in and prints never wait to be sent again by themselves', async () => {
    const server = fakeServer();
    server.up = false;
    const sign = new Action(() => api.signIn('tel01', 'pw'), { resumable: false });
    await sign.run();
    expect(sign.pending).toBe(false);
    expect(sign.error?.code).toBe('unavailable');
    expect(connection.waiting).toBe(0);
    forgetAll();
    connection.offline = false;
  });
});

