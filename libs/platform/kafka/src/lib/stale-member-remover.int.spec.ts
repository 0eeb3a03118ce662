/**
 * StaleMemberRemover against a real broker (the test broker; a LeaveGroup for a member of a
 * group of this test's own) and against a port nobody listens on. The removal of a member that
 * really is stale is covered in broker-outage.int.spec.ts, on a broker of its own.
 */
import { freePort, waitFor } from '@seqcast/testing';
import { brokers, uniqueName } from '../testing';
import { type StaleMemberOutcome, StaleMemberRemover } from './stale-member-remover';

function remover(brokerList: string[], settled: StaleMemberOutcome[], logs: string[]): StaleMemberRemover {
  return new StaleMemberRemover({
    settings: { brokers: brokerList, clientId: 'kafka-lib-int-stale-member' },
    name: 'test consumer',
    logger: { log: (line) => logs.push(line), warn: (line) => logs.push(line) },
    retryIntervalMs: 100,
    giveUpAfterMs: 12_000,
    onSettled: (_group, _member, outcome) => settled.push(outcome),
  });
}

describe('StaleMemberRemover (real broker)', () => {
  it('settles as "already gone" for a member the coordinator does not know, and closes its admin client', async () => {
    const settled: StaleMemberOutcome[] = [];
    const logs: string[] = [];
    const subject = remover(brokers(), settled, logs);
    subject.remove(uniqueName('g'), 'seqcast-unknown-member');
    await waitFor(() => settled.length > 0, { timeoutMs: 20_000, what: 'the removal to settle' });
    expect(settled).toEqual(['already gone']);
    expect(logs.at(-1)).toMatch(/stale member seqcast-unknown-member of group .* had already left the group/);
    await subject.stop();
  });

  it('stop() ends a removal that is waiting for an unreachable broker', async () => {
    const settled: StaleMemberOutcome[] = [];
    const logs: string[] = [];
    const subject = remover([`127.0.0.1:${await freePort()}`], settled, logs);
    subject.remove(uniqueName('g'), 'member-1');
    await subject.stop();
    expect(settled).toEqual(['stopped']);
  });

  it('never removes the member the consumer has joined as', async () => {
    const settled: StaleMemberOutcome[] = [];
    const logs: string[] = [];
    const subject = remover([`127.0.0.1:${await freePort()}`], settled, logs);
    subject.remove('g', 'member-1');
    subject.joined('member-1');
    expect(settled).toEqual(['superseded']);
    expect(logs.at(-1)).toContain('rejoined as member member-1 of group g; not removing it');
    await subject.stop();
    expect(settled).toEqual(['superseded']);
  });
});
