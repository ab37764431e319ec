// Benchmark, not a test (runs only with E2E_BENCH=1; scripts/bench-branch.sh runs it alone and
// as a branch terminal in one go): a counter step's round trip as the teller's window sees it,
// from the webview's call to its answer, through the shell (and, as a branch terminal, the
// client, HTTPS to the branch server, its PostgreSQL store, and back). The step is "log a
// contact with the wallet operator" on a case of this run: a real step (a state-checked write
// with its chained audit event and an idempotency key each), allowed any number of times.
// Prints p50/p90/p99/max over E2E_BENCH_STEPS steps (default 200) after 10 warm-up steps, and
// writes them as JSON to E2E_BENCH_OUT when set.
import { after, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { MODE, launch, signIn, waitState, walkIn } from './app.mjs';

const STEPS = Number(process.env.E2E_BENCH_STEPS ?? 200);
let s;
after(async () => {
  await s?.delete();
});

test('a counter step round trip as the window sees it', { skip: !process.env.E2E_BENCH && 'E2E_BENCH is not set' }, async () => {
  s = await launch();
  await signIn(s, 'tel01');
  const caseNumber = await walkIn(s, { name: '测试辛', phone: '13912340027' });
  await waitState(s, 'checked-in');
  const times = await s.cmd(
    'POST',
    '/execute/async',
    {
      script: `
        const [steps, caseNumber] = [arguments[0], arguments[1]];
        const done = arguments[arguments.length - 1];
        const invoke = window.__TAURI_INTERNALS__.invoke;
        (async () => {
          const found = await invoke('find_cases', { query: caseNumber });
          const caseId = found[0].id;
          const out = [];
          for (let i = 0; i < steps + 10; i++) {
            const input = { channel: 'operator-portal', ticket: 'BENCH-' + i, result: 'bench' };
            const t0 = performance.now();
            await invoke('log_contact', { caseId, input, idem: crypto.randomUUID() });
            if (i >= 10) out.push(performance.now() - t0);
          }
          return out;
        })().then(done, (e) => done({ error: String(e && (e.message || e.code) || e) }));
      `,
      args: [STEPS, caseNumber],
    },
    600_000,
  );
  if (!Array.isArray(times)) throw new Error(`the bench failed: ${JSON.stringify(times)}`);
  const sorted = [...times].sort((a, b) => a - b);
  const q = (p) => Math.round(10 * sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]) / 10;
  const r = { mode: MODE, steps: sorted.length, p50_ms: q(50), p90_ms: q(90), p99_ms: q(99), max_ms: Math.round(10 * sorted.at(-1)) / 10 };
  console.log(`BENCH round trip (${MODE}): ${JSON.stringify(r)}`);
  if (process.env.E2E_BENCH_OUT) writeFileSync(process.env.E2E_BENCH_OUT, JSON.stringify(r));
});
