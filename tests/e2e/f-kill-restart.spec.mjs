// (f) The app is killed mid-flow (SIGKILL, no chance to save anything) and started again: the
// case is exactly where it was and the flow carries on.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  T, appPids, caseShow, fillForm, launch, openAtCounter, openCaseFromToday, printAndSign, residentId, signIn, sleep, tid,
  verifyIdentity,
  waitState, waitUntil, walkIn,
} from './app.mjs';

let s;
after(async () => {
  await s?.delete();
});

test('kill the app after the form is recorded; restart; the case is where it was', async () => {
  s = await launch();
  await signIn(s, 'tel02');
  const caseNumber = await walkIn(s, { name: '测试己', phone: '13912340006' });
  await waitState(s, 'checked-in');
  const idNumber = residentId('11010519880808007');
  await verifyIdentity(s, idNumber, '测试己');
  await fillForm(s, { phone: '13912340006', idNumber });

  const pids = appPids();
  assert.equal(pids.length, 1, `exactly one app process of ours (${pids})`);
  process.kill(pids[0], 'SIGKILL');
  await waitUntil(() => appPids().length === 0, { message: 'the app to die' });
  await s.delete();
  await sleep(300);

  assert.equal(caseShow(caseNumber).case.state, 'form-recorded');

  s = await launch();
  await signIn(s, 'tel02');
  await openCaseFromToday(s, caseNumber);
  await waitState(s, 'form-recorded');
  await openAtCounter(s, caseNumber);
  await waitState(s, 'form-recorded');
  // the form step is where the teller left it: print, then confirm signed
  await s.find(tid(T.confirmSigned));
  await printAndSign(s);
  assert.equal(caseShow(caseNumber).case.state, 'form-signed');
});
