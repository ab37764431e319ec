// (a) Happy path: the call centre's appointments are imported; a teller finds the appointment by phone tail, checks a valid resident ID, fills
// the form, submits; a supervisor authorizes on the same terminal; the unlock is confirmed; the
// case is closed. Then the CLI confirms the stored state.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DATA_DIR, T, authorize, printedFile, caseShow, cli, checkInByPhoneTail, errorBanner, fillForm, launch, logContact, openCaseFromToday,
  printVia, residentId, shot, signIn, signOut, tid, verifyIdentity, waitState, waitUntil, sleep,
} from './app.mjs';

const PRINT_DIR = process.env.UNLOCKDESK_TEST_PRINT_DIR;
if (!PRINT_DIR) throw new Error('UNLOCKDESK_TEST_PRINT_DIR is not set: run the specs through scripts/e2e.sh (it starts CUPS)');

let s;
before(async () => {
  s = await launch();
});
after(async () => {
  await s?.delete();
});

/** The call centre's export for today (CSV, the importer's header), one synthetic customer. */
function importAppointment(idNumber) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
  const reference = `APT2026${String(Date.now() % 100000000).padStart(8, '0')}`;
  const phone = '13912347319';
  const csv = [
    'reference,name,phone,id_type,id_number,wallet_operator,lock_cause,slot_start,slot_end,notes',
    `${reference},测试甲,${phone},prc-id,${idNumber},运营机构A,wrong-password,${today}T23:00,${today}T23:30,e2e`,
  ].join('\r\n') + '\r\n';
  const file = join(DATA_DIR, '..', 'appointments.csv');
  writeFileSync(file, csv);
  const report = cli(['appointments', 'import', file], { as: 'tel01' });
  assert.equal(report.imported, 1, JSON.stringify(report));
  const appt = cli(['appointments', 'today'], { as: 'tel01' }).find((a) => a.reference === reference);
  assert.ok(appt, 'the imported appointment is in today\'s book');
  return { ...appt, phone };
}

test('teller and supervisor take an appointment to closed', async (t) => {
  const idNumber = residentId('11010519850412003');
  const appt = importAppointment(idNumber);
  await shot(s, 'signin');
  await signIn(s, 'tel01');
  await shot(s, 'today');

  const caseNumber = await checkInByPhoneTail(s, appt, 'counter-checkin');
  assert.match(caseNumber, /\S+-\d{8}-\d{4}/);
  await shot(s, 'identity');

  await verifyIdentity(s, idNumber, appt.name);
  await fillForm(s, { phone: '13123456789', idNumber, shotName: 'form' });
  await shot(s, 'form-recorded');

  // Print, then sign: the signed paper cannot be confirmed before the bank copy is printed.
  assert.equal(await s.attr(tid(T.confirmSigned), 'disabled'), 'true', 'confirm-signed waits for the print');
  const hint = await s.find(tid(T.blockedReason, '[data-rule="not-printed"]'));
  assert.ok(hint, 'the reason is shown');
  const p = await printVia(s, T.printForm);
  assert.equal(p.channel, 'cups', 'printed on the terminal\'s CUPS printer');
  assert.notEqual(p.outcome, 'failed');
  const printedForm = await printed(t, caseNumber, 'application');
  assert.match(pdfText(printedForm), new RegExp(caseNumber));
  // CUPS-PDF wrote the job to its output folder: the paper the customer signs.
  const caseId = caseShow(caseNumber).case.id;
  const out = await waitUntil(
    () => readdirSync(PRINT_DIR).find((f) => f.includes(caseId) && f.endsWith('.pdf')) ?? null,
    { timeout: 20_000, message: `the printed form in ${PRINT_DIR}` },
  );
  assert.equal(readFileSync(join(PRINT_DIR, out)).subarray(0, 5).toString(), '%PDF-');
  await s.waitAttr(tid(T.formPrintStatus), 'data-printed', 'true');
  await shot(s, 'form-printed');

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

  // The unlock needs the operator contact on record first.
  assert.equal(await s.attr(tid(T.unlockConfirm), 'disabled'), 'true', 'confirm-unlock waits for a contact');
  await s.find(tid(T.blockedReason, '[data-rule="no-operator-contact"]'));
  await logContact(s, 'WO-20261206-0417');
  await s.type(tid(T.unlockReference), 'WO-20261206-0417');
  await s.select(tid(T.unlockChannel), 'in-person');
  await shot(s, 'unlock');
  await s.click(tid(T.unlockConfirm));
  await authorize(s, 'sup01');
  await waitState(s, 'unlocked');
  await s.find(tid(T.aftercare));
  await shot(s, 'unlocked');
  // Receipt before close (or a reason): print the customer's receipt on the terminal printer.
  await s.find(tid(T.blockedReason, '[data-rule="receipt-not-printed"]'));
  const r = await printVia(s, T.printReceipt);
  assert.notEqual(r.outcome, 'failed');
  await s.find(tid(T.receiptPrinted));
  await s.click(tid(T.closeCase));
  await waitState(s, 'closed');
  await sleep(100);

  const stored = caseShow(caseNumber);
  assert.equal(stored.case.state, 'closed');
  assert.equal(stored.case.opened_by, 'tel01');
  assert.equal(stored.case.authorization.decision, 'approve');
  assert.equal(stored.case.authorization.supervisor, 'sup01');
  assert.equal(stored.case.unlock.operator_reference, 'WO-20261206-0417');
  assert.equal(stored.case.unlock.authorized_by, 'sup01');
  assert.equal(stored.case.identity.kind, 'prc-id');
  assert.equal(stored.case.identity.checked_by, 'tel01');
  assert.ok(stored.case.form_signed_at);
  assert.equal(stored.case.identity.online_check.result, 'match');
  assert.ok(stored.case.contacts.some((c) => c.ticket === 'WO-20261206-0417'));
  const prints = stored.case.prints.filter((x) => x.channel === 'cups');
  assert.ok(prints.some((x) => x.kind === 'application' && x.copy === 'bank' && x.job_id), JSON.stringify(stored.case.prints));
  assert.ok(prints.some((x) => x.kind === 'receipt' && x.copy === 'customer' && x.job_id));


  // The receipt the counter printed is the one the case stored.
  const receipt = await printed(t, caseNumber, 'receipt');
  assert.match(pdfText(receipt), /WO-20261206-0417/);

  // A reprint from the case view: the case is closed (read-only while its retention runs), so
  // it is an exported copy sent to the terminal printer, not a print recorded on the case.
  await openCaseFromToday(s, caseNumber);
  await s.find(tid(T.caseReadOnly));
  const documents = caseShow(caseNumber).documents.length;
  const receiptsOnPaper = () => readdirSync(PRINT_DIR).filter((f) => f.includes(caseId) && f.includes('receipt') && f.endsWith('.pdf'));
  const onPaper = receiptsOnPaper().length;
  const copy = await printVia(s, T.reprintReceipt);
  assert.notEqual(copy.outcome, 'failed');
  assert.equal(copy.channel, 'cups');
  // Sent to the printer: no decrypted copy is left on the terminal.
  const exported = await s.exec('return document.querySelector(arguments[0])?.dataset.path ?? null;', [tid(T.printOutcome, '[data-export="true"]')]);
  assert.equal(exported, '', `no exported file on disk (${exported})`);
  // CUPS-PDF writes the file in place: wait until the newest one is a whole PDF.
  const newest = await waitUntil(
    () => {
      if (receiptsOnPaper().length <= onPaper) return null;
      const f = receiptsOnPaper().map((x) => join(PRINT_DIR, x)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
      const b = readFileSync(f);
      return b.subarray(0, 5).toString() === '%PDF-' && b.includes('%%EOF') ? f : null;
    },
    { timeout: 20_000, message: 'the exported receipt on the printer' },
  );
  assert.ok(newest);
  assert.equal(caseShow(caseNumber).documents.length, documents, 'the export is not recorded on the case');
  await shot(s, 'case');

  await signOut(s);
});

/**
 * Waits for core to record a printed `kind` on the case; checks that the printer got a PDF for
 * it (CUPS-PDF's output), that nothing decrypted stays on the terminal and that the store's own
 * copy is sealed at rest; returns the stored copy as the store gives it back (decrypted, its
 * SHA-256 checked), whose bytes are the recorded ones.
 */
async function printed(t, caseNumber, kind) {
  const outcome = await waitUntil(
    async () => {
      if (await s.exists(tid(T.formError))) return { error: await errorBanner(s) };
      const doc = caseShow(caseNumber).documents.find((d) => d.kind === kind);
      return doc ? { doc } : null;
    },
    { timeout: 15_000, message: `a printed ${kind}` },
  );
  if (outcome.error) assert.fail(`printing the ${kind} answered ${outcome.error.code}: ${outcome.error.text}`);
  const { doc } = outcome;
  // CUPS-PDF writes the file in place: wait until it is a whole PDF.
  await waitUntil(
    () => {
      const f = readdirSync(PRINT_DIR).find((x) => x.includes(doc.case_id) && x.includes(kind) && x.endsWith('.pdf'));
      if (!f) return null;
      const b = readFileSync(join(PRINT_DIR, f));
      return b.subarray(0, 5).toString() === '%PDF-' && b.includes('%%EOF') ? f : null;
    },
    { timeout: 20_000, message: `the printed ${kind} in ${PRINT_DIR}` },
  );
  assert.ok(!existsSync(printedFile(doc)), 'no decrypted copy on the terminal');
  const stored = join(DATA_DIR, doc.path);
  if (existsSync(stored)) {
    assert.notEqual(readFileSync(stored).subarray(0, 5).toString(), '%PDF-', 'the stored copy is sealed at rest');
  }
  const file = join(DATA_DIR, '..', `${doc.id}.pdf`);
  cli(['case', 'document', '--case', doc.case_id, '--id', doc.id, '--out', file], { as: 'tel01' });
  const bytes = readFileSync(file);
  assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
  assert.equal(bytes.length, doc.bytes);
  assert.equal(createHash('sha256').update(bytes).digest('hex'), doc.sha256);
  return file;
}

/** The PDF's text (poppler's pdftotext), which also proves it parses. */
function pdfText(file) {
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8', timeout: 20_000 });
}
