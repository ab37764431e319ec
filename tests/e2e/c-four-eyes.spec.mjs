// (c) The maker of a case may not approve it: a supervisor who made the case types their own
// password in the authorization dialog and is refused with the four-eyes message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DICT, T, authorize, caseShow, errorBanner, launch, makeSubmittedCase, shot, signIn, tid, waitState } from './app.mjs';

let s;
before(async () => {
  s = await launch();
});
after(async () => {
  await s?.delete();
});

test('the maker cannot approve their own case (four-eyes)', async () => {
  await signIn(s, 'sup02');
  const caseNumber = await makeSubmittedCase(s, { name: '测试丙', phone: '13912340003', idBody: '11010519790101005' });
  assert.deepEqual(caseShow(caseNumber).case.makers.includes('sup02'), true);

  await s.click(tid(T.authorizeButton));
  await authorize(s, 'sup02', { decision: 'approve' });
  const err = await errorBanner(s);
  assert.equal(err.code, 'four-eyes');
  const locale = await s.exec('return document.documentElement.lang');
  assert.equal(err.text, DICT[locale]['error.four-eyes']);
  await shot(s, 'four-eyes');
  assert.equal(await s.attr(tid(T.caseState), 'data-state'), 'submitted');
  assert.equal(caseShow(caseNumber).case.state, 'submitted');

  // Another supervisor may.
  await s.click(tid(T.authCancel));
  await s.waitGone(tid(T.authDialog));
  await s.click(tid(T.authorizeButton));
  await authorize(s, 'sup01', { decision: 'approve' });
  await waitState(s, 'approved');
  const stored = caseShow(caseNumber).case;
  assert.equal(stored.state, 'approved');
  assert.equal(stored.authorization.supervisor, 'sup01');
});
