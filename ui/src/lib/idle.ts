/**
 * Idle watch: calls `onIdle` after `minutes` without keyboard, pointer or wheel activity.
 * Returns a stop function. `minutes <= 0` disables the watch.
 */
export function watchIdle(minutes: number, onIdle: () => void, target: EventTarget = window): () => void {
  if (!(minutes > 0)) return () => {};
  const ms = minutes * 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(onIdle, ms);
  };
  const events = ['keydown', 'pointerdown', 'pointermove', 'wheel'];
  for (const ev of events) target.addEventListener(ev, arm, { passive: true });
  arm();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    for (const ev of events) target.removeEventListener(ev, arm);
  };
}
