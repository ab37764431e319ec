/**
 * Chinese input methods: the Enter that confirms an IME candidate (拼音/五笔 候选词) must never
 * submit a form or open a row. Browsers mark that keydown with `isComposing` (Chromium, Firefox)
 * or only with `keyCode === 229` (WebKit sends it just after `compositionend`), and WebKit may
 * still run the form's implicit submission for it. Every form submit and every Enter-to-open row
 * goes through this module:
 *
 *   <form onsubmit={submitter(() => void save.run())}>          (Enter or the submit button)
 *   <tr onkeydown={enterTo(() => open(id))}>                     (Enter opens, not an IME Enter)
 */

/** True for a keydown that belongs to an IME composition (the candidate is being confirmed). */
export function isComposing(e: KeyboardEvent): boolean {
  return e.isComposing || e.keyCode === 229;
}

/** The Enter that confirms an IME candidate. */
export function isImeEnter(e: KeyboardEvent): boolean {
  return (e.key === 'Enter' || e.key === 'Process' || e.keyCode === 229) && isComposing(e);
}

// The last IME Enter, until the current task ends: a submit the browser runs as that keydown's
// default action (implicit submission) comes within the same task.
let imeEnterNow = false;
let tracking: Document | null = null;

function track(e: Event): void {
  if (!(e instanceof KeyboardEvent) || !isImeEnter(e)) return;
  imeEnterNow = true;
  setTimeout(() => (imeEnterNow = false), 0);
}

/** Listens (capture phase) for IME Enters on `doc`; called by `submitter`, idempotent. */
export function watchIme(doc: Document | undefined = globalThis.document): void {
  if (!doc || tracking === doc) return;
  tracking?.removeEventListener('keydown', track, true);
  doc.addEventListener('keydown', track, true);
  tracking = doc;
}

/**
 * A form's `onsubmit`: prevents the page load and runs `fn`, unless the submit came from the
 * Enter that confirmed an IME candidate.
 */
export function submitter(fn: (e: SubmitEvent) => void): (e: SubmitEvent) => void {
  watchIme();
  return (e: SubmitEvent) => {
    e.preventDefault();
    if (imeEnterNow) return;
    fn(e);
  };
}

/** A row's (or any non-form element's) `onkeydown`: Enter runs `fn`; an IME Enter does not. */
export function enterTo(fn: () => void): (e: KeyboardEvent) => void {
  return (e: KeyboardEvent) => {
    if (e.key !== 'Enter' || isComposing(e)) return;
    e.preventDefault();
    fn();
  };
}
