// (m) A branch terminal whose server goes away in the middle of a step: the banner names the
// server, everything typed stays, and when the server is back the step is sent again with the
// same idempotency key and applied exactly once. The teller's server session ended meanwhile
// (the account was disabled and enabled again on the store, which ends its sessions): the
// window locks, the same person types the password, and the same step continues.
//
// The spec runs its own server (on the run's PostgreSQL in the branch run, on an embedded store
// of its own otherwise) and a window started with `--server` on it, so it can stop that server.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, T, launch, residentId, shot, signIn, tid, waitState, waitUntil, walkIn } from './app.mjs';
import { cliAt, specStore, startServer, tempDir } from './branch.mjs';

let s;
let server;
after(async () => {
  await s?.delete();
  await server?.stop();
});

test('the server stops in the middle of a step: banner, nothing typed is lost, the step is applied once when it is back', async () => {
  const db = specStore();
  server = await startServer({ db });
  const dataDir = tempDir('unlockdesk-spec-terminal-');
  s = await launch(['--data-dir', dataDir, '--server', server.url]);
  await signIn(s, 'tel02');
  assert.equal(await s.attr(tid(T.headerServer), 'data-url'), server.url);
  assert.match(await s.text(tid(T.headerTerminal)), /^local:/);

  const name = '测试庚';
  const caseNumber = await walkIn(s, { name, phone: '13912340017' });
  await waitState(s, 'checked-in');
  const idNumber = residentId('11010519900307005');
  await s.select(tid(T.idKind), 'prc-id');
  await s.type(tid(T.idName), name);
  await s.type(tid(T.idNumber), idNumber);
  await s.waitAttr(tid(T.idFeedback), 'data-status', 'valid');
  await s.type(tid(T.idValidUntil), '长期');
  await s.select(tid(T.idOnlineCheck), 'match');
  await s.type(tid(T.idOnlineRef), 'LWHC-20261207-000417');

  // The server dies as the teller presses the button.
  await server.stop('SIGKILL');
  await s.click(tid(T.idSubmit));
  const banner = await s.findVisible(tid(T.offlineBanner), 20_000);
  assert.ok(banner);
  assert.ok((await s.text(tid(T.offlineBanner))).includes(server.url), 'the banner names the server');
  await s.waitAttr(tid(T.offlineBanner), 'data-waiting', '1');
  await shot(s, 'branch-offline');
  // Nothing typed is lost, nothing advanced, and a second press sends nothing.
  assert.equal(await s.value(tid(T.idNumber)), idNumber);
  assert.equal(await s.value(tid(T.idOnlineRef)), 'LWHC-20261207-000417');
  assert.equal(await s.attr(tid(T.caseState), 'data-state'), 'checked-in');
  assert.equal(await s.exec('return document.querySelector(arguments[0]).disabled', [tid(T.idSubmit)]), true);

  // Meanwhile the teller's session ends on the store (disabled and enabled again).
  cliAt({ db }, ['staff', 'disable', '--id', 'tel02'], { as: 'admin' });
  cliAt({ db }, ['staff', 'enable', '--id', 'tel02'], { as: 'admin' });

  // The server is back on the same address: the step goes again, meets the ended session, and
  // the window asks for the same person's password.
  server = await startServer({ db, listen: server.listen, dataDir: server.dataDir });
  await s.find(tid(T.lockScreen), 30_000);
  await s.waitGone(tid(T.offlineBanner), 10_000);
  await s.type(tid(T.lockPassword), PASSWORD);
  await s.click(tid(T.lockSubmit));
  await waitState(s, 'identity-verified', 30_000);

  // Applied exactly once, by tel02, on this terminal.
  const v = cliAt({ server: server.url }, ['case', 'show', caseNumber], { as: 'sup01' });
  assert.equal(v.case.state, 'identity-verified');
  const verified = v.history.filter((e) => e.action === 'verify-identity');
  assert.equal(verified.length, 1, JSON.stringify(v.history.map((e) => e.action)));
  assert.equal(verified[0].staff_id, 'tel02');
  assert.match(verified[0].terminal, /^local:/);
  await waitUntil(async () => !(await s.exists(tid(T.offlineBanner))), { message: 'the banner to go' });
});
