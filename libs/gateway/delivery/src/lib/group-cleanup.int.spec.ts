/**
 * A clean shutdown leaves no consumer group behind (real broker): the gateway's per-instance
 * group exists while it runs and is gone once the app has closed. And it never commits offsets,
 * so the group of a killed gateway (no shutdown hook) is one the broker drops on its own.
 */
import { waitFor } from '@seqcast/testing';
import { GatewayHarness, room } from '../testing';

let gw: GatewayHarness;
let closed = false;

beforeAll(async () => {
  gw = await GatewayHarness.start();
});

afterAll(async () => {
  await gw?.stop(!closed);
});

async function listGroups(): Promise<string[]> {
  const admin = gw.kafka.admin();
  await admin.connect();
  try {
    return (await admin.listGroups()).groups.map((g) => g.groupId);
  } finally {
    await admin.disconnect();
  }
}

it('delivers live events without committing an offset for its group', async () => {
  const roomId = room('team-nocommit');
  const client = await gw.client(['team-*'], { autoAck: true });
  await expect(gw.subscribe(client.socket, { roomId })).resolves.toMatchObject({ ok: true });
  const live = await gw.commitAndPublish(roomId, 5);
  await waitFor(() => client.seqs(roomId).length >= live.length, { what: 'live delivery' });
  expect(client.seqs(roomId)).toEqual(live.map((m) => m.seq));
  const admin = gw.kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: gw.groupId, topics: [gw.eventsTopic] });
    expect(offsets.partitions.length).toBeGreaterThan(0);
    // -1: nothing committed for the partition.
    for (const partition of offsets.partitions) expect(partition.offset).toBe('-1');
  } finally {
    await admin.disconnect();
  }
});

it('deletes its consumer group on shutdown', async () => {
  expect(await listGroups()).toContain(gw.groupId);
  await gw.app.close();
  closed = true;
  expect(await listGroups()).not.toContain(gw.groupId);
});
