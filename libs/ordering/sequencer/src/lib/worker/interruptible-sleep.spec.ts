import { InterruptibleSleep } from './interruptible-sleep';

describe('InterruptibleSleep', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('resolves after the delay', async () => {
    const sleeper = new InterruptibleSleep();
    let woke = false;
    const pending = sleeper.sleep(1_000).then(() => (woke = true));
    await jest.advanceTimersByTimeAsync(999);
    expect(woke).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await pending;
    expect(woke).toBe(true);
  });

  it('wakeAll ends every pending sleep at once and leaves no timer behind', async () => {
    const sleeper = new InterruptibleSleep();
    const both = Promise.all([sleeper.sleep(60_000), sleeper.sleep(5_000)]);
    sleeper.wakeAll();
    await both;
    expect(jest.getTimerCount()).toBe(0);
  });
});
