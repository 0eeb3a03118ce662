/**
 * A clean shutdown leaves no consumer group behind (real broker): the gateway's per-instance
 * group exists while it runs and is gone once the app has closed.
 */
import { GatewayHarness } from '../testing';

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

it('deletes its consumer group on shutdown', async () => {
  expect(await listGroups()).toContain(gw.groupId);
  await gw.app.close();
  closed = true;
  expect(await listGroups()).not.toContain(gw.groupId);
});
