import { Logger } from '@nestjs/common';
import { partitionForRoom } from '@seqcast/room-partitioner';
import { PartitionInterest, type PartitionSwitch } from './partition-interest';

const TOPIC = 'events';
const PARTITIONS = 4;

/** Room ids that land on the given partition. */
function roomOn(partition: number, skip = 0): string {
  for (let i = 0, found = 0; ; i++) {
    const roomId = `room-${i}`;
    if (partitionForRoom(roomId, PARTITIONS) === partition && found++ === skip) return roomId;
  }
}

function fakeConsumer() {
  const log: string[] = [];
  const consumer: PartitionSwitch = {
    pause: (topics) => log.push(`pause ${topics.flatMap((t) => t.partitions ?? []).join(',')}`),
    resume: (topics) => log.push(`resume ${topics.flatMap((t) => t.partitions ?? []).join(',')}`),
    seek: ({ partition, offset }) => log.push(`seek ${partition}@${offset}`),
  };
  return { consumer, log };
}

function setup(failing = false) {
  let release: () => void = () => undefined;
  let gate: Promise<void> = Promise.resolve();
  const hold = () => (gate = new Promise((resolve) => (release = resolve)));
  const interest = new PartitionInterest({ topic: TOPIC, partitions: PARTITIONS }, undefined, async () => {
    await gate;
    if (failing) throw new Error('broker busy');
    return Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, high: String(100 + partition) }));
  });
  return { interest, hold, release: () => release() };
}

beforeAll(() => Logger.overrideLogger(false));
afterAll(() => Logger.overrideLogger(true));

describe('PartitionInterest', () => {
  it('pauses every partition without a subscribed room once the consumer runs', () => {
    const { interest } = setup();
    interest.roomActive(roomOn(2), true);
    const { consumer, log } = fakeConsumer();
    interest.attach(consumer);
    expect(log).toEqual(['pause 0,1,3']);
    expect(interest.activePartitions).toEqual([2]);
  });

  it('resumes a partition from its end before its first subscriber reads history', async () => {
    const { interest, hold, release } = setup();
    const { consumer, log } = fakeConsumer();
    interest.attach(consumer);
    log.length = 0;
    hold();
    interest.roomActive(roomOn(1), true);
    let ready = false;
    const waiting = interest.ready(roomOn(1)).then(() => (ready = true));
    // A second room of the same partition waits for the same resume.
    interest.roomActive(roomOn(1, 1), true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ready).toBe(false);
    expect(log).toEqual([]);
    release();
    await waiting;
    expect(log).toEqual(['seek 1@101', 'resume 1']);
    expect(interest.activePartitions).toEqual([1]);
    // Rooms of other partitions are not held up.
    await expect(interest.ready(roomOn(3))).resolves.toBeUndefined();
  });

  it('pauses again when the last room of a partition goes, and tells the cache owner', async () => {
    const { interest } = setup();
    const paused: number[] = [];
    interest.onPaused = (p) => paused.push(p);
    const { consumer, log } = fakeConsumer();
    interest.attach(consumer);
    interest.roomActive(roomOn(0), true);
    interest.roomActive(roomOn(0, 1), true);
    await interest.ready(roomOn(0));
    log.length = 0;
    interest.roomActive(roomOn(0), false);
    expect(log).toEqual([]);
    interest.roomActive(roomOn(0, 1), false);
    expect(log).toEqual(['pause 0']);
    expect(paused).toEqual([0]);
  });

  it('resumes from where it paused (skipping nothing) when the end cannot be read', async () => {
    const { interest } = setup(true);
    const { consumer, log } = fakeConsumer();
    interest.attach(consumer);
    log.length = 0;
    interest.roomActive(roomOn(1), true);
    await interest.ready(roomOn(1));
    expect(log).toEqual(['resume 1']);
    expect(interest.activePartitions).toEqual([1]);
  });

  it('does not resume when the interest left before the end was read', async () => {
    const { interest, hold, release } = setup();
    const { consumer, log } = fakeConsumer();
    interest.attach(consumer);
    log.length = 0;
    hold();
    interest.roomActive(roomOn(2), true);
    const ready = interest.ready(roomOn(2));
    interest.roomActive(roomOn(2), false);
    release();
    await ready;
    expect(log).toEqual([]);
    expect(interest.activePartitions).toEqual([]);
  });

  it('fetches everything while no consumer is attached, and re-applies pauses on a new consumer', async () => {
    const { interest } = setup();
    interest.roomActive(roomOn(3), true);
    await interest.ready(roomOn(3));
    expect(interest.activePartitions).toEqual([0, 1, 2, 3]);
    const first = fakeConsumer();
    interest.attach(first.consumer);
    interest.detach(first.consumer);
    const second = fakeConsumer();
    interest.attach(second.consumer);
    expect(second.log).toEqual(['pause 0,1,2']);
  });
});
