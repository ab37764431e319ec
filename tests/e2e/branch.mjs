// A branch server of a spec's own (to stop and start it in the middle of a step, or to enrol a
// fresh terminal on it), its store, and the CLI run on that store or through that server.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, PASSWORD } from './app.mjs';
import { sleep } from './webdriver.mjs';

export const SERVER = process.env.E2E_SERVER;
if (!SERVER) throw new Error('E2E_SERVER is not set: run the specs through scripts/e2e.sh');

/** Temporary directories of this spec file's stores, servers and terminals: removed at exit. */
const made = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
/** A temporary directory removed when the spec file ends. */
export function tempDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** The environment of a CLI run without the run's own server or store (the spec names them). */
function cleanEnv(extra) {
  const env = { ...process.env, UNLOCKDESK_PASSWORD: PASSWORD, UNLOCKDESK_SUPERVISOR_PASSWORD: PASSWORD, ...extra };
  for (const k of ['UNLOCKDESK_SERVER', 'UNLOCKDESK_SERVER_FINGERPRINT', 'UNLOCKDESK_DATABASE_URL']) {
    if (!(k in (extra ?? {}))) delete env[k];
  }
  return env;
}

/** Runs the CLI with `--json` (and `--as`) on `where` (`{ db }` or `{ server }`); parsed JSON. */
export function cliAt(where, args, { as = null, env = {} } = {}) {
  const target = where.db ? ['--db', where.db] : ['--server', where.server];
  const argv = [...target, '--json', ...(as ? ['--as', as] : []), ...args];
  const out = execFileSync(CLI, argv, {
    env: cleanEnv(env),
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out);
}

/**
 * A store for the spec's server: in the branch run the run's throwaway PostgreSQL (the demo is
 * in it), alone a fresh embedded store file with the demo loaded.
 */
export function specStore() {
  if (process.env.E2E_DATABASE_URL) return process.env.E2E_DATABASE_URL;
  const dir = tempDir('unlockdesk-spec-store-');
  const db = join(dir, 'unlockdesk.db');
  execFileSync(CLI, ['--db', db, 'demo'], { env: cleanEnv({}), stdio: 'ignore', timeout: 60_000 });
  return db;
}

/**
 * Starts `unlockdesk-server` on `db`; resolves once it printed its ready line. `listen` defaults
 * to a free loopback port; pass the same `listen` to start it again on the same address.
 */
export async function startServer({ db, listen = '127.0.0.1:0', tls = false, dataDir = null, env = {} }) {
  const dir = dataDir ?? tempDir('unlockdesk-spec-server-');
  const args = ['--db', db, '--listen', listen, '--data-dir', dir, ...(tls ? ['--tls-self-signed'] : [])];
  const proc = spawn(SERVER, args, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (err += d));
  const deadline = Date.now() + 30_000;
  while (!/^UNLOCKDESK_SERVER_READY /m.test(out)) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`the spec's branch server did not start (exit ${proc.exitCode}):\n${err}`);
    }
    await sleep(50);
  }
  const url = out.match(/^UNLOCKDESK_SERVER_READY (\S+)/m)[1];
  const fingerprint = out.match(/^certificate SHA-256 fingerprint: (\S+)/m)?.[1] ?? null;
  const address = url.replace(/^https?:\/\//, '');
  return {
    url,
    fingerprint,
    listen: address,
    dataDir: dir,
    proc,
    log: () => err,
    /** Stops it: SIGKILL (a crash, a pulled cable) or SIGTERM (a drain). */
    async stop(signal = 'SIGKILL') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill(signal);
      await gone;
    },
  };
}

/**
 * A second tauri-driver (with its own WebKitWebDriver) on a free pair of ports, for a second
 * app window in the same spec: resolves to `{ url, stop }` once it accepts connections. Its
 * app does not see the environment variables named in `without`, and sees those of `env`.
 */
export async function startDriver({ without = [], env: extra = {} } = {}) {
  const net = await import('node:net');
  const free = (port) =>
    new Promise((r) => {
      const srv = net.createServer().once('error', () => r(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => r(true)));
    });
  let port = 4600;
  while (!((await free(port)) && (await free(port + 1)))) port += 2;
  // The app inherits the driver's environment: `without` names variables it must not see.
  const env = { ...process.env, ...extra };
  for (const k of without) delete env[k];
  const proc = spawn('tauri-driver', ['--port', String(port), '--native-port', String(port + 1)], {
    stdio: 'ignore',
    env,
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const up = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1', () => (c.end(), r(true))).once('error', () => r(false));
    });
    if (up) break;
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error('the second tauri-driver did not start');
    await sleep(100);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    },
  };
}

/**
 * Starts `unlockdesk-operator-sim` (E2E_SIM) on a free loopback port with `args`; resolves to
 * `{ url, ledger(), stop() }` once it printed its ready line.
 */
export async function startSim(args = []) {
  const bin = process.env.E2E_SIM;
  if (!bin) throw new Error('E2E_SIM is not set: run the specs through scripts/e2e.sh');
  const proc = spawn(bin, ['--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  const deadline = Date.now() + 15_000;
  while (!/^OPERATOR_SIM_READY /m.test(out)) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error('the operator simulator did not start');
    }
    await sleep(50);
  }
  const url = out.match(/^OPERATOR_SIM_READY (\S+)/m)[1];
  return {
    url,
    async ledger() {
      const r = await fetch(`${url}/sim/ledger`);
      return r.json();
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    },
  };
}
