// (d) An authority-ordered freeze is refused at the counter and an unlock is never offered.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { T, caseShow, launch, shot, signIn, tid, waitState, walkIn } from './app.mjs';

let s;
before(async () => {
  s = await launch();
});
after(async () => {
  await s?.delete();
});

const NEVER = [T.unlockConfirm, T.unlockReference, T.authorizeButton, T.submitCase, T.idSubmit, T.formSubmit];

async function assertNoUnlock() {
  for (const id of NEVER) assert.equal(await s.exists(tid(id)), false, `${id} must not be offered`);
}

test('a walk-in with an authority freeze is refused; unlock is never offered', async () => {
  await signIn(s, 'tel01');
  const caseNumber = await walkIn(s, { name: '测试丁', phone: '13912340004', cause: 'authority-freeze' });
  await s.find(tid(T.freezeScreen));
  await assertNoUnlock();
  await shot(s, 'freeze');

  // Core refuses a freeze when the case is opened; should it ever open one first, the teller
  // records the refusal on this screen.
  if ((await s.attr(tid(T.caseState), 'data-state')) !== 'refused-authority-freeze') {
    await s.type(tid(T.freezeReason), 'court order 2026-01');
    await s.click(tid(T.freezeRefuse));
  }
  await waitState(s, 'refused-authority-freeze');
  await s.find(tid(T.freezeScreen));
  await assertNoUnlock();

  const stored = caseShow(caseNumber);
  assert.equal(stored.case.state, 'refused-authority-freeze');
  assert.equal(stored.case.unlock, null);
  assert.ok(!stored.allowed.includes('confirm-unlock'));
});
