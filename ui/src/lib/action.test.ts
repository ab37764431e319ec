import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { Action } from './action.svelte';
import * as api from './api';

afterEach(() => clearMocks());

describe('Action', () => {
  it('a double click calls the shell once', async () => {
    let calls = 0;
    mockIPC(async (cmd) => {
      if (cmd === 'sign_in') {
        calls += 1;
        await new Promise((r) => setTimeout(r, 20));
        return null;
      }
    });
    const a = new Action(() => api.signIn('t01', 'pw'));
    const first = a.run();
    const second = a.run();
    expect(a.pending).toBe(true);
    await Promise.all([first, second]);
    expect(calls).toBe(1);
    expect(a.pending).toBe(false);
  });

  it('keeps core field errors by field name', async () => {
    mockIPC(() => {
      throw {
        code: 'invalid',
        message: 'staff_id: required',
        fields: [{ field: 'staff_id', rule: 'required', message: 'staff id is required' }],
      };
    });
    const a = new Action(() => api.signIn('', 'pw'));
    expect(await a.run()).toBeUndefined();
    expect(a.error?.code).toBe('invalid');
    expect(a.fields['staff_id']?.rule).toBe('required');
  });
});
