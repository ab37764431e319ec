// (b) A wrong check character and 29 February 1900 (not a leap year) are refused beside the
// number field; the case stays checked-in.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  T, caseShow, fieldError, launch, residentId, shot, signIn, tid, waitState, waitUntil, walkIn, wrongCheck,
} from './app.mjs';

let s;
let caseNumber;
before(async () => {
  s = await launch();
  await signIn(s, 'tel02');
  caseNumber = await walkIn(s, { name: '测试乙', phone: '13912340002' });
  await waitState(s, 'checked-in');
});
after(async () => {
  await s?.delete();
});

async function refused(number, shotName) {
  await s.select(tid(T.idKind), 'prc-id');
  await s.type(tid(T.idName), '测试乙');
  await s.type(tid(T.idNumber), number);
  // live feedback while typing
  await s.waitAttr(tid(T.idFeedback), 'data-status', 'invalid');
  await s.click(tid(T.idSubmit));
  const err = await s.find(tid(T.idNumber, '[aria-invalid="true"]'));
  assert.ok(err);
  const text = await waitUntil(() => fieldError(s, tid(T.idNumber)), { message: 'field error beside the number' });
  if (shotName) await shot(s, shotName);
  // said once, beside the field: not also in a banner
  assert.equal(await s.exists(tid(T.formError)), false, 'no banner beside the field error');
  assert.equal(await s.attr(tid(T.caseState), 'data-state'), 'checked-in');
  return text;
}

test('a wrong check character is a field error and the case does not advance', async () => {
  const good = residentId('11010519850412004');
  const text = await refused(wrongCheck(good), 'identity-field-error');
  assert.ok(text.length > 0);
  assert.equal(caseShow(caseNumber).case.state, 'checked-in');
});

test('29 February 1900 is a field error and the case does not advance', async () => {
  // 1900 is not a leap year (divisible by 100, not by 400): the date part is invalid even
  // though the check character is right.
  const feb29 = residentId('11010519000229001');
  await refused(feb29);
  assert.equal(caseShow(caseNumber).case.state, 'checked-in');
  assert.equal(caseShow(caseNumber).case.identity, null);
});
