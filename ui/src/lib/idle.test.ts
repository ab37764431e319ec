import { afterEach, describe, expect, it, vi } from 'vitest';
import { watchIdle } from './idle';

afterEach(() => vi.useRealTimers());

describe('watchIdle', () => {
  it('fires after the idle minutes, and activity postpones it', () => {
    vi.useFakeTimers();
    const target = new EventTarget();
    const onIdle = vi.fn();
    const stop = watchIdle(2, onIdle, target);
    vi.advanceTimersByTime(90_000);
    target.dispatchEvent(new Event('keydown'));
    vi.advanceTimersByTime(90_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(31_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
    stop();
  });

  it('zero minutes disables it', () => {
    vi.useFakeTimers();
    const onIdle = vi.fn();
    watchIdle(0, onIdle, new EventTarget());
    vi.advanceTimersByTime(3_600_000);
    expect(onIdle).not.toHaveBeenCalled();
  });
});
