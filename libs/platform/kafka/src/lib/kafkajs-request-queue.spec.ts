import { fixKafkajsRequestQueue, PATCHED_KAFKAJS_VERSION, type RequestQueueInternals } from './kafkajs-request-queue';

type RequestQueueClass = new (options: Record<string, unknown>) => RequestQueueInternals;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as RequestQueueClass;
const original = RequestQueue.prototype.scheduleCheckPendingRequests;

function newQueue(): RequestQueueInternals {
  const logger = { debug: () => undefined, warn: () => undefined, error: () => undefined, info: () => undefined };
  return new RequestQueue({ clientId: 'spec', broker: 'spec:9092', logger, requestTimeout: 30_000 });
}

describe('kafkajs RequestQueue fix', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('applies to the installed kafkajs (an upgrade fails here: look at the patch again)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect((require('kafkajs/package.json') as { version: string }).version).toBe(PATCHED_KAFKAJS_VERSION);
    expect(fixKafkajsRequestQueue()).toBe(true);
    expect(RequestQueue.prototype.scheduleCheckPendingRequests).not.toBe(original);
    expect(fixKafkajsRequestQueue()).toBe(true);
  });

  it("kafkajs' own scheduler re-arms a timer with nothing waiting (the bug being fixed)", () => {
    const queue = newQueue();
    original.call(queue);
    expect(queue.throttleCheckTimeoutId).not.toBeNull();
    expect(jest.getTimerCount()).toBe(1);
    clearTimeout(queue.throttleCheckTimeoutId ?? undefined);
  });

  it('arms no timer after a check with nothing waiting', () => {
    fixKafkajsRequestQueue();
    const queue = newQueue();
    queue.checkPendingRequests();
    expect(queue.throttleCheckTimeoutId).toBeNull();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('checks waiting requests when the broker throttle ends', () => {
    fixKafkajsRequestQueue();
    const queue = newQueue();
    const check = jest.spyOn(queue, 'checkPendingRequests').mockImplementation(() => undefined);
    queue.pending.push({});
    queue.throttledUntil = Date.now() + 50;
    queue.scheduleCheckPendingRequests();
    jest.advanceTimersByTime(49);
    expect(check).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(check).toHaveBeenCalledTimes(1);
    expect(queue.throttleCheckTimeoutId).toBeNull();
  });

  it('checks every 10 ms while requests wait for an in-flight slot', () => {
    fixKafkajsRequestQueue();
    const queue = newQueue();
    const check = jest.spyOn(queue, 'checkPendingRequests').mockImplementation(() => undefined);
    queue.pending.push({});
    queue.scheduleCheckPendingRequests();
    queue.scheduleCheckPendingRequests();
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(10);
    expect(check).toHaveBeenCalledTimes(1);
  });
});
