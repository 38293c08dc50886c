import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DigitGatherer } from '../../src/media/dtmf/digit-gatherer.js';
import { TypedEmitter } from '../../src/shared/typed-emitter.js';

/** getDigits' gatherer owns its timers: none while prompts play, then the first-key and between-key waits. */
describe('DigitGatherer', () => {
  let keys: TypedEmitter<{ dtmf: [digit: string] }>;
  beforeEach(() => {
    vi.useFakeTimers();
    keys = new TypedEmitter();
  });
  afterEach(() => vi.useRealTimers());

  const gather = (options: Partial<{ numDigits: number; timeoutMs: number; finishOnKey: string }> = {}, signal = new AbortController().signal) =>
    new DigitGatherer(keys, { numDigits: options.numDigits, timeoutMs: options.timeoutMs ?? 5000, finishOnKey: options.finishOnKey ?? '#' }, signal);

  it('does not time out while the prompts play, however long they are', async () => {
    const g = gather();
    await vi.advanceTimersByTimeAsync(60_000);
    g.promptsOver();
    await vi.advanceTimersByTimeAsync(4999);
    keys.emit('dtmf', '4');
    await vi.advanceTimersByTimeAsync(4999);
    keys.emit('dtmf', '2');
    await vi.advanceTimersByTimeAsync(5000);
    expect(await g.result).toEqual({ digits: '42', reason: 'timeout' });
  });

  it('counts keys pressed during the prompts, aborts keyPressed at the first (barge-in), and times the next key from the end of the prompts', async () => {
    const g = gather({ numDigits: 3 });
    expect(g.keyPressed.aborted).toBe(false);
    keys.emit('dtmf', '1');
    expect(g.keyPressed.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(30_000);
    g.promptsOver();
    keys.emit('dtmf', '2');
    keys.emit('dtmf', '3');
    expect(await g.result).toEqual({ digits: '123', reason: 'numDigits' });
  });

  it('ends on finishOnKey without it, on the first-key timeout with nothing, and on abort', async () => {
    const finished = gather();
    finished.promptsOver();
    keys.emit('dtmf', '7');
    keys.emit('dtmf', '#');
    expect(await finished.result).toEqual({ digits: '7', reason: 'finishOnKey' });

    const silent = gather({ timeoutMs: 3000 });
    silent.promptsOver();
    await vi.advanceTimersByTimeAsync(3000);
    expect(await silent.result).toEqual({ digits: '', reason: 'timeout' });

    const stop = new AbortController();
    const aborted = gather({}, stop.signal);
    keys.emit('dtmf', '9');
    stop.abort();
    expect(await aborted.result).toEqual({ digits: '9', reason: 'aborted' });
    // Done gatherers stop listening.
    expect(keys.listenerCount('dtmf')).toBe(0);
  });
});
