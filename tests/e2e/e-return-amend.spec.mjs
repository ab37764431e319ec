// (e) The supervisor returns the case for more information; the teller signs out and back in
// (what was typed is forgotten at sign-out), amends only the address — the masked phone, wallet
// id and card are kept, not retyped — and resubmits; a supervisor approves.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  T, authorize, caseShow, launch, makeSubmittedCase, openAtCounter, openCaseFromToday, printAndSign, shot, signIn, signOut, tid,
  waitState,
} from './app.mjs';

let s;
before(async () => {
  s = await launch();
});
after(async () => {
  await s?.delete();
});

test('returned for info, amended, approved', async () => {
  await signIn(s, 'tel01');
  const caseNumber = await makeSubmittedCase(s, { name: '测试戊', phone: '13912340005', idBody: '11010519900707006' });

  await s.click(tid(T.authorizeButton));
  await authorize(s, 'sup01', { decision: 'return-for-info', reasonCode: 'form-incomplete', reason: 'address lacks the flat number' });
  await waitState(s, 'returned-for-info');
  await s.waitGone(tid(T.authDialog));
  await shot(s, 'returned');

  await signOut(s);
  await signIn(s, 'tel01');
  await openCaseFromToday(s, caseNumber);
  await openAtCounter(s, caseNumber);
  await waitState(s, 'returned-for-info');
  const phone = tid(T.formField, '[data-field="phone"]');
  assert.equal(await s.value(phone), '', 'the typed phone was forgotten at sign-out');
  assert.match(await s.attr(phone, 'placeholder'), /^139\*+0005$/, 'the recorded phone shows masked');
  await shot(s, 'amend-keeps-numbers');

  const address = tid(T.formField, '[data-field="address"]');
  await s.type(address, '北京市东城区测试路1号3单元502室');
  await s.click(tid(T.formSubmit));
  await waitState(s, 'form-recorded');
  // An amended form is a new revision: printed and signed again.
  await s.waitAttr(tid(T.formPrintStatus), 'data-printed', 'false');
  await printAndSign(s);
  await s.click(tid(T.submitCase));
  await waitState(s, 'submitted');

  await s.click(tid(T.authorizeButton));
  await authorize(s, 'sup02', { decision: 'approve' });
  await waitState(s, 'approved');

  const stored = caseShow(caseNumber).case;
  assert.equal(stored.state, 'approved');
  assert.equal(stored.authorization.supervisor, 'sup02');
  assert.match(stored.form.address, /502/);
  assert.match(stored.form.phone, /^139\*+0005$/, 'the recorded phone was kept (shown masked)');
  assert.equal(stored.form_revision, 2);
  const bank = stored.prints.filter((p) => p.kind === 'application' && p.copy === 'bank' && p.outcome !== 'failed');
  assert.deepEqual(bank.map((p) => p.form_revision), [1, 2], 'each revision printed before its signature');
});
