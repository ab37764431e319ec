import { describe, expect, it } from 'vitest';
import { flushSync } from 'svelte';
import { Action } from './action.svelte';

describe('Action in an effect', () => {
  it('runs once per change of what the effect reads, not again at its own end', async () => {
    let calls = 0;
    const a = new Action(async (_id: string) => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 1));
    });
    const screen = $state({ caseId: 'c1' });
    const stop = $effect.root(() => {
      $effect(() => {
        void a.run(screen.caseId);
      });
    });
    const settle = async () => {
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 2));
        flushSync();
      }
    };
    flushSync();
    await settle();
    expect(calls).toBe(1);
    screen.caseId = 'c2';
    flushSync();
    await settle();
    expect(calls).toBe(2);
    stop();
  });
});
