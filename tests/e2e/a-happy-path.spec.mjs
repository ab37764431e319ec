// (a) Happy path: a teller finds the appointment by phone tail, checks a valid resident ID, fills
// the form, submits; a supervisor authorizes on the same terminal; the unlock is confirmed; the
// case is closed. Then the CLI confirms the stored state.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import {
  T, authorize, caseShow, checkInByPhoneTail, errorBanner, fillForm, launch, residentId, shot, signIn, signOut,
  tid, verifyIdentity, waitState, waitingAppointment, sleep,
} from './app.mjs';

let s;
before(async () => {
  s = await launch();
});
after(async () => {
  await s?.delete();
});

test('teller and supervisor take an appointment to closed', async (t) => {
  const appt = waitingAppointment(0);
  await shot(s, 'signin');
  await signIn(s, 'tel01');
  await shot(s, 'today');

  const caseNumber = await checkInByPhoneTail(s, appt);
  assert.match(caseNumber, /\S+-\d{8}-\d{4}/);
  await shot(s, 'identity');

  await verifyIdentity(s, residentId('11010519850412003'), appt.name);
  await fillForm(s, { phone: '13123456789' });
  await shot(s, 'form-recorded');

  // Printing: the PDF must exist and be valid once print_document is wired to core. Until then
  // the shell answers `internal` ("printing is not wired to core yet"): skip the PDF checks.
  await s.click(tid(T.printForm));
  const printed = await Promise.race([
    s.find('.banner.ok.mono', 10_000).then(async () => ({ path: (await s.text('.banner.ok.mono')).replace(/^[^/]*/, '') })),
    errorBanner(s, 10_000).then((e) => ({ error: e })),
  ]);
  if (printed.error) {
    t.diagnostic(`printing not wired yet (${printed.error.code}): PDF assertions skipped`);
  } else {
    assert.ok(existsSync(printed.path), `PDF at ${printed.path}`);
    assert.equal(readFileSync(printed.path).subarray(0, 5).toString(), '%PDF-');
  }

  await s.click(tid(T.confirmSigned));
  await waitState(s, 'form-signed');
  await s.click(tid(T.submitCase));
  await waitState(s, 'submitted');
  await shot(s, 'review');

  // The supervisor authorizes on this terminal with their own password.
  await s.click(tid(T.authorizeButton));
  await shot(s, 'authorize-dialog');
  await authorize(s, 'sup01', { decision: 'approve' });
  await waitState(s, 'approved');
  await s.waitGone(tid(T.authDialog));

  await s.type(tid(T.unlockReference), 'OPS-E2E-0001');
  await s.select(tid(T.unlockChannel), 'in-person');
  await shot(s, 'unlock');
  await s.click(tid(T.unlockConfirm));
  await authorize(s, 'sup01');
  await waitState(s, 'unlocked');
  await s.find(tid(T.aftercare));
  await shot(s, 'unlocked');
  await s.click(tid(T.closeCase));
  await waitState(s, 'closed');
  await sleep(100);

  const stored = caseShow(caseNumber);
  assert.equal(stored.case.state, 'closed');
  assert.equal(stored.case.opened_by, 'tel01');
  assert.equal(stored.case.authorization.decision, 'approve');
  assert.equal(stored.case.authorization.supervisor, 'sup01');
  assert.equal(stored.case.unlock.operator_reference, 'OPS-E2E-0001');
  assert.equal(stored.case.unlock.authorized_by, 'sup01');
  assert.equal(stored.case.identity.kind, 'prc-id');
  assert.equal(stored.case.identity.checked_by, 'tel01');
  assert.ok(stored.case.form_signed_at);

  await signOut(s);
});
