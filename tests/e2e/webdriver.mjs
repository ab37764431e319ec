// A tiny W3C WebDriver client for tauri-driver (plain Node 20: fetch + AbortController).
// Every call has a timeout: without TAURI_WEBVIEW_AUTOMATION a session can hang forever.

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
const DRIVER = process.env.E2E_DRIVER_URL ?? 'http://127.0.0.1:4444';
const CALL_TIMEOUT_MS = Number(process.env.E2E_CALL_TIMEOUT_MS ?? 15_000);

export class WebDriverError extends Error {
  constructor(method, path, status, value) {
    super(`${method} ${path} → ${status} ${value?.error ?? ''}: ${value?.message ?? JSON.stringify(value)}`.slice(0, 600));
    this.status = status;
    this.error = value?.error;
  }
}

/** One HTTP call to the driver (the run's, or `driver`); rejects after `timeoutMs`. */
export async function call(method, path, body, timeoutMs = CALL_TIMEOUT_MS, driver = DRIVER) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    const res = await fetch(driver + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctrl.signal,
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : {};
    if (!res.ok) throw new WebDriverError(method, path, res.status, json.value);
    return json.value;
  } catch (e) {
    if (e.name === 'AbortError') throw new Error(`WebDriver ${method} ${path} timed out after ${timeoutMs} ms`);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** WebDriver's codes of the keys that are not characters (W3C WebDriver §17.4.2). */
export const KEY = {
  Shift: '\uE008', Tab: '\uE004', Enter: '\uE007', Escape: '\uE00C', Space: '\uE00D', ArrowUp: '\uE013',
  ArrowDown: '\uE015', F2: '\uE032', F8: '\uE038', F10: '\uE03A',
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a truthy value (errors count as "not yet"). */
export async function waitUntil(fn, { timeout = 10_000, interval = 100, message = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${message}${last ? `: ${last.message}` : ''}`);
    await sleep(interval);
  }
}

/** CSS selector of a test id, with an optional suffix (e.g. `[data-field=phone]`). */
export const tid = (id, suffix = '') => `[data-testid="${id}"]${suffix}`;

export class Session {
  constructor(id, driver = DRIVER) {
    this.id = id;
    this.driver = driver;
  }

  /**
   * Launches the app binary through tauri-driver (the window loads before this resolves), with
   * `args` on its command line (e.g. `--data-dir DIR --server URL` for a window of its own).
   */
  static async start(application, timeoutMs = 60_000, args = [], driver = DRIVER) {
    const value = await call(
      'POST',
      '/session',
      { capabilities: { alwaysMatch: { 'tauri:options': { application, args } } } },
      timeoutMs,
      driver,
    );
    const s = new Session(value.sessionId, driver);
    await s.cmd('POST', '/timeouts', { implicit: 0, pageLoad: 30_000, script: 10_000 });
    return s;
  }

  cmd(method, path, body, timeoutMs) {
    return call(method, `/session/${this.id}${path}`, body, timeoutMs, this.driver);
  }

  async delete() {
    try {
      await this.cmd('DELETE', '', undefined, 10_000);
    } catch {
      // the app may already be gone (killed on purpose); the driver cleans up
    }
  }

  async findAll(css) {
    const els = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return els.map((e) => e[ELEMENT]);
  }

  /** The first element matching `css`, waiting for it to appear. */
  async find(css, timeout = 10_000) {
    return waitUntil(async () => (await this.findAll(css))[0], { timeout, message: css });
  }

  /** The first *displayed* element matching `css`. */
  async findVisible(css, timeout = 10_000) {
    return waitUntil(
      async () => {
        for (const el of await this.findAll(css)) if (await this.displayed(el)) return el;
        return null;
      },
      { timeout, message: `visible ${css}` },
    );
  }

  async exists(css) {
    return (await this.findAll(css)).length > 0;
  }

  displayed(el) {
    return this.cmd('GET', `/element/${el}/displayed`);
  }

  async click(css, timeout) {
    const el = await this.findVisible(css, timeout);
    await waitUntil(() => this.cmd('GET', `/element/${el}/enabled`), { timeout: 10_000, message: `enabled ${css}` });
    await this.cmd('POST', `/element/${el}/click`, {});
    return el;
  }

  /** Clears the field and types `text` (input events fire, so Svelte bindings update). */
  async type(css, text) {
    const el = await this.findVisible(css);
    await this.cmd('POST', `/element/${el}/clear`, {});
    await this.cmd('POST', `/element/${el}/value`, { text: String(text) });
    return el;
  }

  async text(css) {
    const el = await this.find(css);
    return this.cmd('GET', `/element/${el}/text`);
  }

  /** The live value of an input (its DOM property, not the initial attribute). */
  async value(css) {
    const el = await this.find(css);
    return this.cmd('GET', `/element/${el}/property/value`);
  }

  async attr(css, name) {
    const el = await this.find(css);
    return this.cmd('GET', `/element/${el}/attribute/${encodeURIComponent(name)}`);
  }

  exec(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  /** Picks an option of a <select> by value, as a person would (fires change). */
  async select(css, value) {
    await this.findVisible(css);
    const ok = await this.exec(
      `const s = document.querySelector(arguments[0]);
       const o = [...s.options].find((o) => o.value === arguments[1]);
       if (!o) return false;
       s.value = o.value; o.selected = true;
       s.dispatchEvent(new Event('input', { bubbles: true }));
       s.dispatchEvent(new Event('change', { bubbles: true }));
       return true;`,
      [css, String(value)],
    );
    if (!ok) throw new Error(`no option ${value} in ${css}`);
  }

  async waitText(css, predicate, timeout = 10_000) {
    return waitUntil(
      async () => {
        const t = await this.text(css);
        return predicate(t) ? t || true : null;
      },
      { timeout, message: `text of ${css}` },
    );
  }

  async waitAttr(css, name, expected, timeout = 10_000) {
    let seen;
    return waitUntil(
      async () => {
        seen = await this.attr(css, name);
        return seen === expected;
      },
      { timeout, message: `${css} ${name}=${expected}` },
    ).catch((e) => {
      throw new Error(`${e.message} (last seen: ${seen})`);
    });
  }

  async waitGone(css, timeout = 10_000) {
    return waitUntil(async () => !(await this.exists(css)), { timeout, message: `${css} to go` });
  }

  /**
   * Presses keys on whatever has the focus, as a person at the keyboard does (W3C actions:
   * each key down and up in turn). A string is typed character by character; `[KEY.Shift,
   * KEY.Tab]` (an array) is a chord: all down, then all up in reverse.
   */
  async keys(...items) {
    const actions = [];
    for (const item of items) {
      if (Array.isArray(item)) {
        for (const k of item) actions.push({ type: 'keyDown', value: k });
        for (const k of [...item].reverse()) actions.push({ type: 'keyUp', value: k });
      } else {
        for (const k of [...String(item)]) actions.push({ type: 'keyDown', value: k }, { type: 'keyUp', value: k });
      }
    }
    await this.cmd('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions }] }, 30_000);
    await this.cmd('DELETE', '/actions', undefined).catch(() => {});
  }

  /** True when the focused element matches `css`. */
  focused(css) {
    return this.exec('return !!document.activeElement && document.activeElement.matches(arguments[0]);', [css]);
  }

  /** Presses Tab (or Shift+Tab) until the element matching `css` has the focus. */
  async tabTo(css, { back = false, max = 80 } = {}) {
    for (let i = 0; i <= max; i++) {
      if (await this.focused(css)) return;
      await this.keys(back ? [KEY.Shift, KEY.Tab] : KEY.Tab);
    }
    const at = await this.exec('const a = document.activeElement; return a ? a.outerHTML.slice(0, 160) : null;');
    throw new Error(`${back ? 'Shift+' : ''}Tab never reached ${css} (focus on ${at})`);
  }

  /** PNG bytes of the window (waits `settleMs` first: right after a change it can be stale). */
  async screenshot(settleMs = 200) {
    await sleep(settleMs);
    const b64 = await this.cmd('GET', '/screenshot', undefined, 20_000);
    return Buffer.from(b64, 'base64');
  }
}
