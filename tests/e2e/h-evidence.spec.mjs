// (h) The evidence a bank files, in the window: a failed online identity check (联网核查) stops
// the case with its serial number; a police-designated anti-fraud restriction is refused like a
// freeze, with its own cause; an agent cannot apply where the branch does not allow it; the
// admin screen shows both branch policies (the online check required, agents off: the demo's).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  T, caseShow, fillForm, launch, residentId, shot, signIn, signOut, tid, verifyIdentity, waitState, walkIn,
} from './app.mjs';

let s;
before(async () => {
  s = await launch();
});
after(async () => {
  await s?.delete();
});

test('an online check that does not match stops the case with its reference', async () => {
  await signIn(s, 'tel01');
  const caseNumber = await walkIn(s, { name: '测试庚', phone: '13912340011' });
  await waitState(s, 'checked-in');
  await verifyIdentity(s, residentId('11010519850303009'), '测试庚', { online: 'mismatch', ref: 'LWHC-20261206-000319' });
  await waitState(s, 'refused-identity');
  await s.find(tid(T.caseOutcome));
  await shot(s, 'refused-identity');
  const stored = caseShow(caseNumber);
  assert.equal(stored.case.state, 'refused-identity');
  assert.ok(JSON.stringify(stored).includes('LWHC-20261206-000319'), 'the serial number is on the record');
  assert.deepEqual(stored.allowed.filter((e) => e !== 'cancel'), [], 'nothing continues a refused identity');
});

test('an anti-fraud restriction is refused at check-in with its own cause', async () => {
  const caseNumber = await walkIn(s, { name: '测试辛', phone: '13912340012', cause: 'anti-fraud-restriction' });
  await s.find(tid(T.freezeScreen, '[data-cause="anti-fraud-restriction"]'));
  await waitState(s, 'refused-authority-freeze');
  for (const id of [T.unlockConfirm, T.authorizeButton, T.submitCase, T.idSubmit, T.formSubmit]) {
    assert.equal(await s.exists(tid(id)), false, `${id} must not be offered`);
  }
  await shot(s, 'anti-fraud');
  const stored = caseShow(caseNumber);
  assert.equal(stored.case.lock_cause, 'anti-fraud-restriction');
  assert.equal(stored.case.state, 'refused-authority-freeze');
  assert.match(stored.freeze_route, /anti-fraud/);
});

test('an agent cannot apply where the branch does not allow it', async () => {
  await walkIn(s, { name: '测试壬', phone: '13912340013' });
  await waitState(s, 'checked-in');
  const id = residentId('11010519860404001');
  await verifyIdentity(s, id, '测试壬');
  await s.find(tid(T.formField, '[data-field="customer_name"]'));
  assert.equal(await s.attr(tid(T.formHasAgent), 'disabled'), 'true');
  await s.find(tid(T.agentsClosed));
  await fillForm(s, { phone: '13912340013', idNumber: id });
  await signOut(s);
});

test('the admin screen shows the branch policies', async () => {
  await signIn(s, 'admin');
  await s.click(tid(T.navAdmin));
  const checked = async (id) => s.cmd('GET', `/element/${await s.find(tid(id))}/property/checked`);
  assert.equal(await checked(T.policyOnlineCheck), true, 'online check required (the demo branch)');
  assert.equal(await checked(T.policyAgents), false, 'agents off by default');
  await shot(s, 'admin-policies');
  await signOut(s);
});
