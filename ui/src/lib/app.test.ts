import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { app, applySession, boot, phaseOf, signOut } from './app.svelte';
import { draftFor } from './counter.svelte';
import type { SessionView } from './bindings/SessionView';

const branch = {
  code: 'BJ001',
  name: 'Demo branch',
  time_zone: 'Asia/Shanghai',
  idle_lock_minutes: 5,
  max_failed_logins: 5,
  extra_materials: [],
  bank_copy_unmasked: false,
  retention_years: 10,
  id_policy: { rules: [] },
  online_check_required: true,
  agents_allowed: false,
  signed_scan_required: false,
  voucher_retention_years: 30,
};

function session(over: Partial<SessionView['staff']> = {}, locked = false): SessionView {
  return {
    staff: { id: 't01', name: 'Teller One', role: 'teller', must_change_password: false, locked: false, disabled: false, ...over },
    branch,
    locked,
  };
}

const ALONE = { branch: false, source: 'alone', server: null, terminal_id: null, fingerprint: null };

afterEach(() => clearMocks());

describe('start-up gates', () => {
  it('an empty store opens set-up', async () => {
    mockIPC((cmd) => (cmd === 'setup_status' ? { set_up: false } : cmd === 'terminal_mode' ? ALONE : null));
    await boot();
    expect(app.phase).toBe('setup');
  });

  it('a set-up store without a session opens sign-in', async () => {
    mockIPC((cmd) => (cmd === 'setup_status' ? { set_up: true } : cmd === 'terminal_mode' ? ALONE : null));
    await boot();
    expect(app.phase).toBe('signin');
  });

  it('an encrypted store waits for the branch passphrase before anything else', async () => {
    mockIPC((cmd) =>
      cmd === 'setup_status' ? { set_up: true, store_key: 'passphrase-needed' } : cmd === 'terminal_mode' ? ALONE : null,
    );
    await boot();
    expect(app.phase).toBe('store-locked');
  });

  it('a store without its key yet asks for the branch passphrase to be chosen', async () => {
    const asked: string[] = [];
    mockIPC((cmd) => {
      asked.push(cmd);
      return cmd === 'setup_status' ? { set_up: false, store_key: 'passphrase-to-set' } : cmd === 'terminal_mode' ? ALONE : null;
    });
    await boot();
    expect(app.phase).toBe('store-passphrase-set');
    // Nothing of the store is read before it opens.
    expect(asked).not.toContain('current_session');
  });

  it('first sign-in forces the password change, a locked session the lock screen', () => {
    expect(phaseOf(session({ must_change_password: true }))).toBe('change-password');
    expect(phaseOf(session({}, true))).toBe('locked');
    expect(phaseOf(session())).toBe('ready');
    expect(phaseOf(null)).toBe('signin');
  });

  it('an admin lands on admin, a teller on today', () => {
    applySession(session({ id: 'adm', role: 'admin' }));
    expect(app.route.name).toBe('admin');
    applySession(session());
    expect(app.route.name).toBe('today');
  });

  it('a failing store shows the failure, not a blank window', async () => {
    mockIPC(() => {
      throw { code: 'storage', message: 'the database is damaged; restore with `unlockdesk-cli restore --from FILE`' };
    });
    await boot();
    expect(app.phase).toBe('failed');
    // The start-up check's message (with the backup route) reaches the window.
    expect(app.failure).toContain('unlockdesk-cli restore --from FILE');
  });
});

describe('sign-out', () => {
  it("forgets what the person typed: the next person's drafts start empty", async () => {
    mockIPC(() => null);
    const d = draftFor('case-1');
    d.form.phone = '13912340005';
    d.form.bank_card = '6200000000000005';
    await signOut();
    expect(app.phase).toBe('signin');
    const next = draftFor('case-1');
    expect(next.form.phone).toBe('');
    expect(next.form.bank_card).toBe('');
  });
});
