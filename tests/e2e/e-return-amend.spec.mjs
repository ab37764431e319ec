// (e) The supervisor returns the case for more information; the teller amends the form and
// resubmits; a supervisor approves.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { T, authorize, caseShow, launch, makeSubmittedCase, shot, signIn, tid, waitState } from './app.mjs';

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

  const address = tid(T.formField, '[data-field="address"]');
  await s.type(address, '北京市东城区测试路1号3单元502室');
  await s.click(tid(T.formSubmit));
  await waitState(s, 'form-recorded');
  await s.click(tid(T.confirmSigned));
  await waitState(s, 'form-signed');
  await s.click(tid(T.submitCase));
  await waitState(s, 'submitted');

  await s.click(tid(T.authorizeButton));
  await authorize(s, 'sup02', { decision: 'approve' });
  await waitState(s, 'approved');

  const stored = caseShow(caseNumber).case;
  assert.equal(stored.state, 'approved');
  assert.equal(stored.authorization.supervisor, 'sup02');
  assert.match(stored.form.address, /502/);
});
