// The branch passphrase of the encrypted embedded store: typed at start it opens the store and
// the start-up goes on (set-up or sign-in); a wrong one says so in words and is cleared. Chosen
// once, it is typed twice (a difference is refused here, before the shell), and a store in use
// asks for an administrator's id and password, which the next press sends.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushSync } from 'svelte';

const invoke = vi.hoisted(() => vi.fn());
vi.mock('@tauri-apps/api/core', () => ({ invoke }));

import StorePassphrase from './StorePassphrase.svelte';
import { app } from '../lib/app.svelte';
import { setLocale } from '../lib/i18n/index.svelte';
import { T } from '../lib/testids';
import { callsOf, click, q, render as renderComponent, settle, type, unmountAll } from '../lib/test-dom';

const ALONE = { branch: false, source: 'alone', server: null, terminal_id: null, fingerprint: null };
const PP = 'correct horse battery staple';

const render = (mode: 'set' | 'unlock') => renderComponent(StorePassphrase, { mode });
const calls = callsOf(invoke);

/** The shell after the store opened: a set-up store without a session (sign-in), or an empty one. */
function shell(handlers: Record<string, (args: Record<string, unknown>) => unknown>, setUp = true) {
  invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
    if (cmd in handlers) return handlers[cmd]!(args);
    if (cmd === 'terminal_mode') return ALONE;
    if (cmd === 'setup_status') return { set_up: setUp, store_key: 'none' };
    if (cmd === 'current_session') return null;
    throw { code: 'invalid', message: `unexpected ${cmd}` };
  });
}

beforeEach(() => {
  invoke.mockReset();
  setLocale('zh-CN');
  app.session = null;
});
afterEach(() => {
  unmountAll();
  document.body.innerHTML = '';
});

describe('opening the store (unlock)', () => {
  beforeEach(() => {
    app.phase = 'store-locked';
  });

  it('sends the passphrase and starts again: a set-up store goes to sign-in', async () => {
    shell({ unlock_store: () => null });
    const root = await render('unlock');
    expect(q(root, T.storeUnlockScreen)).not.toBeNull();
    expect(q(root, T.storeUnlockSubmit)?.textContent?.trim()).toBe('打开');
    type(q(root, T.storeUnlockPassphrase), PP);
    await click(q(root, T.storeUnlockSubmit));
    expect(calls('unlock_store')).toEqual([{ passphrase: PP }]);
    // boot() asked again where the app stands, after the store opened.
    const order = invoke.mock.calls.map(([c]) => c);
    expect(order.lastIndexOf('setup_status')).toBeGreaterThan(order.indexOf('unlock_store'));
    expect(app.phase).toBe('signin');
  });

  it('a new store opened goes on to set-up', async () => {
    shell({ unlock_store: () => null }, false);
    const root = await render('unlock');
    type(q(root, T.storeUnlockPassphrase), PP);
    await click(q(root, T.storeUnlockSubmit));
    expect(app.phase).toBe('setup');
  });

  it('shows that the button works while the key is derived', async () => {
    let open: (v: null) => void = () => {};
    shell({ unlock_store: () => new Promise((r) => (open = r)) });
    const root = await render('unlock');
    type(q(root, T.storeUnlockPassphrase), PP);
    await click(q(root, T.storeUnlockSubmit));
    const button = q<HTMLButtonElement>(root, T.storeUnlockSubmit)!;
    expect(button.disabled).toBe(true);
    expect(button.textContent?.trim()).toBe('正在打开…');
    open(null);
    await settle();
    expect(app.phase).toBe('signin');
  });

  it('a wrong passphrase says so in words, clears the field and stays', async () => {
    shell({
      unlock_store: () => {
        throw { code: 'storage', message: 'the branch passphrase does not open this store', fields: [] };
      },
    });
    const root = await render('unlock');
    const input = q<HTMLInputElement>(root, T.storeUnlockPassphrase)!;
    type(input, 'not the passphrase');
    await click(q(root, T.storeUnlockSubmit));
    expect(q(root, T.storeUnlockError)?.textContent?.trim()).toBe('网点口令不正确，数据未作任何改动。');
    // Not the generic storage sentence.
    expect(q(root, T.formError)).toBeNull();
    expect(input.value).toBe('');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(app.phase).toBe('store-locked');
    expect(calls('setup_status')).toEqual([]);

    setLocale('en');
    flushSync();
    expect(q(root, T.storeUnlockError)?.textContent?.trim()).toBe('That passphrase does not open this store. Nothing was changed.');
  });

  it('another storage failure is the usual banner', async () => {
    shell({
      unlock_store: () => {
        throw { code: 'storage', message: 'the database is damaged', fields: [] };
      },
    });
    const root = await render('unlock');
    type(q(root, T.storeUnlockPassphrase), PP);
    await click(q(root, T.storeUnlockSubmit));
    expect(q(root, T.storeUnlockError)).toBeNull();
    expect(q(root, T.formError)?.dataset['code']).toBe('storage');
  });

  it('an empty passphrase is marked under the field', async () => {
    shell({
      unlock_store: () => {
        throw { code: 'invalid', message: 'invalid', fields: [{ field: 'passphrase', rule: 'required', message: '' }] };
      },
    });
    const root = await render('unlock');
    await click(q(root, T.storeUnlockSubmit));
    expect(root.querySelector('#store-unlock-pp-err')?.textContent).toBe('必填');
  });
});

describe('choosing the passphrase (set)', () => {
  beforeEach(() => {
    app.phase = 'store-passphrase-set';
  });

  it('refuses two different passphrases without asking the shell', async () => {
    shell({ set_store_passphrase: () => null });
    const root = await render('set');
    expect(q(root, T.storePassphraseScreen)).not.toBeNull();
    expect(root.textContent).toContain('至少 12 个字符');
    type(q(root, T.storePassphrase), PP);
    type(q(root, T.storePassphrase2), `${PP}!`);
    await click(q(root, T.storePassphraseSubmit));
    expect(calls('set_store_passphrase')).toEqual([]);
    expect(root.querySelector('#store-pp2-err')?.textContent).toBe('不一致');
    expect(app.phase).toBe('store-passphrase-set');
  });

  it('a new store: sets the passphrase without an administrator and goes on to set-up', async () => {
    shell({ set_store_passphrase: () => null }, false);
    const root = await render('set');
    expect(q(root, T.storeAdminFields)).toBeNull();
    type(q(root, T.storePassphrase), PP);
    type(q(root, T.storePassphrase2), PP);
    await click(q(root, T.storePassphraseSubmit));
    expect(calls('set_store_passphrase')).toEqual([
      { passphrase: PP, passphrase2: PP, adminId: null, adminPassword: null },
    ]);
    expect(app.phase).toBe('setup');
  });

  it("says the passphrase's bounds under it", async () => {
    shell({
      set_store_passphrase: () => {
        throw { code: 'invalid', message: 'invalid', fields: [{ field: 'passphrase', rule: 'too-short', message: '' }] };
      },
    });
    const root = await render('set');
    type(q(root, T.storePassphrase), 'short');
    type(q(root, T.storePassphrase2), 'short');
    await click(q(root, T.storePassphraseSubmit));
    expect(root.querySelector('#store-pp-err')?.textContent).toBe('太短：至少 12 个字符');
  });

  it('a store in use: the administrator fields appear, and the next press sends them', async () => {
    shell({
      set_store_passphrase: (args) => {
        if (!args['adminId']) {
          throw {
            code: 'invalid',
            message: 'invalid',
            fields: [{ field: 'admin_id', rule: 'required', message: 'an administrator is needed' }],
          };
        }
        return null;
      },
    });
    const root = await render('set');
    type(q(root, T.storePassphrase), PP);
    type(q(root, T.storePassphrase2), PP);
    await click(q(root, T.storePassphraseSubmit));
    expect(q(root, T.storeAdminFields)).not.toBeNull();
    expect(root.querySelector('#store-admin-id-err')?.textContent).toBe('必填');
    expect(app.phase).toBe('store-passphrase-set');

    type(q(root, T.storeAdminId), 'adm01');
    type(q(root, T.storeAdminPassword), 'Admin#2026pw');
    await click(q(root, T.storePassphraseSubmit));
    expect(calls('set_store_passphrase')).toEqual([
      { passphrase: PP, passphrase2: PP, adminId: null, adminPassword: null },
      { passphrase: PP, passphrase2: PP, adminId: 'adm01', adminPassword: 'Admin#2026pw' },
    ]);
    expect(app.phase).toBe('signin');
  });

  it("a refused administrator's password is cleared and the refusal shown", async () => {
    let first = true;
    shell({
      set_store_passphrase: () => {
        if (first) {
          first = false;
          throw { code: 'invalid', message: 'invalid', fields: [{ field: 'admin_id', rule: 'required', message: '' }] };
        }
        throw { code: 'auth-failed', message: 'wrong staff id or password', fields: [] };
      },
    });
    const root = await render('set');
    type(q(root, T.storePassphrase), PP);
    type(q(root, T.storePassphrase2), PP);
    await click(q(root, T.storePassphraseSubmit));
    type(q(root, T.storeAdminId), 'adm01');
    type(q(root, T.storeAdminPassword), 'wrong');
    await click(q(root, T.storePassphraseSubmit));
    expect(q(root, T.formError)?.dataset['code']).toBe('auth-failed');
    expect(q<HTMLInputElement>(root, T.storeAdminPassword)?.value).toBe('');
    // The fields stay for the next attempt.
    expect(q(root, T.storeAdminFields)).not.toBeNull();
  });
});
