// (n) A new counter PC joins the branch: on first start it offers "this terminal alone" or
// "connect to the branch server"; the teller types the server's address and the one-time code
// the administrator issued; the app shows the server certificate's fingerprint, which must be
// the one the server printed, before the code is sent; accepted, the code goes to that
// certificate only and it is pinned, the header names server and terminal, and the
// administrator sees the terminal in the list. A refused fingerprint sends and keeps nothing.
//
// Runs in the standalone run (a window whose server is set by UNLOCKDESK_SERVER, as in the
// branch run, has nothing to choose).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BRANCH, T, launch, shot, signIn, signOut, tid, waitUntil } from './app.mjs';
import { cliAt, specStore, startServer, tempDir } from './branch.mjs';

let s;
let server;
after(async () => {
  await s?.delete();
  await server?.stop('SIGTERM');
});

test('enrol a terminal with a code, compare the fingerprint, work through the server', { skip: BRANCH && 'the branch run fixes the server by UNLOCKDESK_SERVER' }, async () => {
  const db = specStore();
  server = await startServer({ db, tls: true });
  assert.ok(server.fingerprint, 'the server printed its certificate fingerprint');
  const at = { server: server.url };
  const env = { UNLOCKDESK_SERVER_FINGERPRINT: server.fingerprint };
  const code = () => cliAt(at, ['terminal', 'code'], { as: 'admin', env }).code;

  const dataDir = tempDir('unlockdesk-spec-terminal-');
  s = await launch(['--data-dir', dataDir]);
  await s.find(tid(T.setupScreen));
  // Alone is the default; the branch choice shows the enrolment form.
  assert.equal(await s.exec('return document.querySelector(arguments[0]).checked', [tid(T.setupModeAlone)]), true);
  await s.click(tid(T.setupModeBranch));
  await shot(s, 'branch-setup');
  await s.type(tid(T.enrolServer), server.url);

  // The fingerprint comes first; the code is sent only once it is accepted. A wrong code is
  // then a field error, back on the form.
  await s.type(tid(T.enrolCode), 'WRONGCODE123');
  await s.click(tid(T.enrolSubmit));
  await s.find(tid(T.enrolFingerprint), 15_000);
  assert.equal(await s.text(tid(T.enrolFingerprint)), server.fingerprint);
  await shot(s, 'branch-fingerprint');
  await s.click(tid(T.enrolAccept));
  await s.findVisible(tid(T.formError), 15_000);
  await s.find(tid(T.enrolCode));
  assert.deepEqual(cliAt(at, ['terminal', 'list'], { as: 'admin', env }), []);

  // A refused fingerprint sends nothing and keeps nothing: the server enrolled no terminal.
  const unsent = code();
  await s.type(tid(T.enrolCode), unsent);
  await s.click(tid(T.enrolSubmit));
  await s.find(tid(T.enrolFingerprint), 15_000);
  await s.click(tid(T.enrolRefuse));
  await s.find(tid(T.enrolServer));
  assert.throws(() => statSync(join(dataDir, 'terminal.json')));
  assert.deepEqual(cliAt(at, ['terminal', 'list'], { as: 'admin', env }), []);

  // Accepted: the code goes to that certificate only; the terminal keeps its id and the pin.
  await s.type(tid(T.enrolCode), unsent);
  await s.click(tid(T.enrolSubmit));
  await s.find(tid(T.enrolFingerprint), 15_000);
  assert.equal(await s.text(tid(T.enrolFingerprint)), server.fingerprint);
  await s.click(tid(T.enrolAccept));
  await s.find(tid(T.signinScreen), 15_000);
  const kept = JSON.parse(readFileSync(join(dataDir, 'terminal.json'), 'utf8'));
  assert.equal(kept.fingerprint, server.fingerprint);
  const terminalId = kept.terminal_id;
  assert.match(terminalId, /^term-[0-9a-f]{12}$/);
  assert.equal(statSync(join(dataDir, 'terminal.json')).mode & 0o777, 0o600);

  // Work through the server: the header names it and this terminal.
  await signIn(s, 'tel01');
  assert.equal(await s.attr(tid(T.headerServer), 'data-url'), server.url);
  assert.equal(await s.text(tid(T.headerTerminal)), terminalId);
  await shot(s, 'branch-header');
  await signOut(s);

  // The administrator sees it among the branch's terminals and can issue codes.
  await signIn(s, 'admin');
  await s.find(tid(T.terminalsPanel));
  await s.find(tid(T.terminalRow, `[data-terminal="${terminalId}"]`));
  await s.click(tid(T.terminalsIssue));
  const issued = await s.find(tid(T.terminalsCode));
  assert.ok(issued);
  assert.match(await s.attr(tid(T.terminalsCode), 'data-code'), /^[A-Z0-9]{12}$/);
  await s.exec('document.querySelector(arguments[0]).scrollIntoView({ block: "end" })', [tid(T.terminalsPanel)]);
  await shot(s, 'branch-admin');
  // The store records this terminal on what it did.
  const listed = cliAt(at, ['terminal', 'list'], { as: 'admin', env });
  assert.ok(listed.some((t) => t.id === terminalId && !t.revoked_at));
  await waitUntil(async () => (await s.exists(tid(T.terminalRevoke))), { message: 'a revoke button' });

  // Another machine answers on the server's address, with another certificate: the terminal
  // stops with a warning at its next call, never accepts it, and keeps its pin.
  await server.stop('SIGTERM');
  server = await startServer({ db, tls: true, listen: server.listen });
  assert.notEqual(server.fingerprint, kept.fingerprint);
  await s.click(tid(T.terminalsIssue));
  await s.find(tid(T.certificateStop), 20_000);
  assert.ok(!(await s.exists(tid(T.appShell))), 'nothing of the shell is left to work with');
  await shot(s, 'branch-certificate-stop');
  assert.equal(JSON.parse(readFileSync(join(dataDir, 'terminal.json'), 'utf8')).fingerprint, kept.fingerprint);
});
