/**
 * Fetching only the partitions of subscribed rooms, against the real broker and PostgreSQL: with
 * no subscribers every partition is paused; a room's first subscriber resumes its partition from
 * the end and gets everything published while it was paused by replay and what follows live,
 * gap-free and without duplicates; the partition is paused again when the room's last subscriber
 * leaves, and resuming it once more does not replay the backlog of the pause live.
 */
import { partitionForRoom } from '@seqcast/room-partitioner';
import { waitFor } from '@seqcast/testing';
import { PARTITION_INTEREST } from './delivery.tokens';
import { GatewayHarness, PARTITIONS, room } from '../testing';
import type { PartitionInterest } from './partition-interest';

let gw: GatewayHarness;
let interest: PartitionInterest;

beforeAll(async () => {
  gw = await GatewayHarness.start({ partitionInterest: true });
  interest = gw.app.get<PartitionInterest>(PARTITION_INTEREST);
});

afterAll(async () => {
  await gw?.stop();
});

it('pauses partitions without subscribers and resumes one gap-free for its first subscriber', async () => {
  await waitFor(() => interest.activePartitions.length === 0, { what: 'every partition paused' });
  const roomId = room('team-paused');
  const partition = partitionForRoom(roomId, PARTITIONS);

  // Published while nobody here is subscribed: only PostgreSQL can deliver these.
  const whilePaused = await gw.commitAndPublish(roomId, 5);
  const alice = await gw.client(['team-*'], { autoAck: true });
  const ack = await gw.subscribe(alice.socket, { roomId, afterSeq: -1 });
  expect(ack).toMatchObject({ ok: true, headSeq: whilePaused[4].seq });
  expect(interest.activePartitions).toEqual([partition]);
  const live = await gw.commitAndPublish(roomId, 5);
  const all = [...whilePaused, ...live].map((m) => m.seq);
  await waitFor(() => alice.seqs(roomId).length >= all.length, { what: 'replay and live delivery' });
  await gw.barrier(alice.socket);
  expect(alice.seqs(roomId)).toEqual(all);

  // The last subscriber leaves: paused again. More traffic meanwhile, then a new subscriber.
  await alice.socket.timeout(5_000).emitWithAck('unsubscribe', { roomId });
  expect(interest.activePartitions).toEqual([]);
  const whilePausedAgain = await gw.commitAndPublish(roomId, 3);
  const bob = await gw.client(['team-*'], { autoAck: true });
  const resumed = await gw.subscribe(bob.socket, { roomId, afterSeq: live[4].seq });
  expect(resumed).toMatchObject({ ok: true, headSeq: whilePausedAgain[2].seq });
  const after = await gw.commitAndPublish(roomId, 2);
  const expected = [...whilePausedAgain, ...after].map((m) => m.seq);
  await waitFor(() => bob.seqs(roomId).length >= expected.length, { what: 'bob caught up' });
  await gw.barrier(bob.socket);
  expect(bob.seqs(roomId)).toEqual(expected);
});
