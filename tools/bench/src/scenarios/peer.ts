import type { BenchOptions, ScenarioResult } from '../lib/context';
import { latency } from './latency';
import { storm } from './storm';

/**
 * The same latency and storm scenarios against Socket.IO + @socket.io/redis-streams-adapter with
 * connection state recovery, beside Seqcast's in the same run.
 */
export async function peer(options: BenchOptions): Promise<ScenarioResult> {
  const stormOptions = { ...options, clients: options.clients ?? (options.smoke ? 20 : 2_000) };
  const results = [await latency(options, 'peer'), await latency(options, 'seqcast'), await storm(stormOptions, 'peer'), await storm(stormOptions, 'seqcast')];
  const [peerLatency, seqcastLatency, peerStorm, seqcastStorm] = results;
  return {
    title: 'Socket.IO + redis-streams-adapter (connection state recovery) vs Seqcast, same run',
    table: {
      // One table of two shapes: the latency rows, then the storm rows under their own header row.
      columns: peerLatency.table.columns,
      rows: [
        ...peerLatency.table.rows,
        ...seqcastLatency.table.rows,
        peerStorm.table.columns,
        ...peerStorm.table.rows,
        ...seqcastStorm.table.rows,
      ],
    },
    notes: results.flatMap((r) => r.notes),
    series: [...peerLatency.series, ...seqcastLatency.series],
    data: { latency: { peer: peerLatency.data, seqcast: seqcastLatency.data }, storm: { peer: peerStorm.data, seqcast: seqcastStorm.data } },
  };
}
