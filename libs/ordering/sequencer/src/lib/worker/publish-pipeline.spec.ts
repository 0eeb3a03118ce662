import type { PartitionState } from './partition-claims';
import { PublishPipeline } from './publish-pipeline';

const stateOf = (partition: number, generation = 1): PartitionState => ({
  claim: { epoch: 'e1', topic: 't', partition, owner: 'w', generation, nextOffset: 0, publishedOffset: 0 },
  nextOffset: 0,
  publishedOffset: 0,
  storedPublishedOffset: 0,
  fenced: false,
});

/** A publish that finishes (or fails) only when told to. */
function gate(): { run: () => Promise<void>; open: () => void; fail: (error: Error) => void; started: () => boolean } {
  let started = false;
  let open: () => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return {
    run: () => {
      started = true;
      return done;
    },
    open: () => open(),
    fail: (error) => fail(error),
    started: () => started,
  };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('PublishPipeline', () => {
  it("runs a partition's links one after the other, in the order they were queued", async () => {
    const pipeline = new PublishPipeline();
    const state = stateOf(0);
    const first = gate();
    const second = gate();
    const done: string[] = [];
    const a = pipeline.enqueue(state, first.run).then(() => done.push('a'));
    const b = pipeline.enqueue(state, second.run).then(() => done.push('b'));
    await turn();
    expect(first.started()).toBe(true);
    expect(second.started()).toBe(false);
    expect(pipeline.busy(state)).toBe(true);
    first.open();
    await a;
    await turn();
    expect(second.started()).toBe(true);
    second.open();
    await b;
    expect(done).toEqual(['a', 'b']);
    await turn();
    expect(pipeline.busy(state)).toBe(false);
  });

  it('does not hold one partition behind another', async () => {
    const pipeline = new PublishPipeline();
    const slow = gate();
    const fast = gate();
    void pipeline.enqueue(stateOf(0), slow.run);
    const other = pipeline.enqueue(stateOf(1), fast.run);
    await turn();
    expect(fast.started()).toBe(true);
    fast.open();
    await other;
    expect(slow.started()).toBe(true);
    slow.open();
    await pipeline.idle();
  });

  it('skips the links queued behind a failed one on the same claim, and reports the failure', async () => {
    const pipeline = new PublishPipeline();
    const state = stateOf(0);
    const first = gate();
    const second = gate();
    const a = pipeline.enqueue(state, first.run);
    const b = pipeline.enqueue(state, second.run);
    first.fail(new Error('broker gone'));
    await expect(a).rejects.toThrow('broker gone');
    await expect(b).rejects.toThrow('broker gone');
    expect(second.started()).toBe(false);
    expect(pipeline.failure(state)?.error).toEqual(new Error('broker gone'));
    // A fresh claim of the partition publishes again.
    const fresh = stateOf(0, 2);
    expect(pipeline.failure(fresh)).toBeUndefined();
    await expect(pipeline.enqueue(fresh, async () => undefined)).resolves.toBeUndefined();
  });

  it("lets a fresh claim wait for the previous claim's links, but not for its own", async () => {
    const pipeline = new PublishPipeline();
    const old = stateOf(0, 1);
    const fresh = stateOf(0, 2);
    const pending = gate();
    void pipeline.enqueue(old, pending.run);
    let waited = false;
    const wait = pipeline.settledExcept(0, fresh).then(() => (waited = true));
    await turn();
    expect(waited).toBe(false);
    await expect(pipeline.settledExcept(0, old)).resolves.toBeUndefined();
    pending.open();
    await wait;
    expect(waited).toBe(true);
  });

  it('idle() settles once every queued link has, failed ones included', async () => {
    const pipeline = new PublishPipeline();
    const ok = gate();
    const bad = gate();
    void pipeline.enqueue(stateOf(0), ok.run);
    pipeline.enqueue(stateOf(1), bad.run).catch(() => undefined);
    let idle = false;
    const all = pipeline.idle().then(() => (idle = true));
    ok.open();
    await turn();
    expect(idle).toBe(false);
    bad.fail(new Error('no'));
    await all;
    expect(idle).toBe(true);
  });
});

describe('PublishPipeline.settledDownTo', () => {
  it('waits until at most that many links of the partition are unsettled', async () => {
    const pipeline = new PublishPipeline();
    const state = stateOf(0);
    const first = gate();
    const second = gate();
    void pipeline.enqueue(state, first.run);
    void pipeline.enqueue(state, second.run);
    await expect(pipeline.settledDownTo(0, 2)).resolves.toBeUndefined();
    let downToOne = false;
    const wait = pipeline.settledDownTo(0, 1).then(() => (downToOne = true));
    await turn();
    expect(downToOne).toBe(false);
    first.open();
    await wait;
    expect(downToOne).toBe(true);
    second.open();
    await pipeline.settledDownTo(0, 0);
    expect(pipeline.busy(state)).toBe(false);
  });
});
