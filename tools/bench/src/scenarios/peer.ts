import type { BenchOptions, ScenarioResult } from '../lib/context';
import { latency } from './latency';
import { storm } from './storm';

/**
 * The same latency and storm scenarios against Socket.IO + @socket.io/redis-streams-adapter with
 * connection state recovery, beside Seqcast's in the same run.
 */
export async function peer(options: BenchOptions): Promise<ScenarioResult> {
  const stormOptions = { ...options, clients: options.clients ?? (options.smoke ? 20 : 2_000) };
  // Smoke proves the peer's scripts work; Seqcast's side already ran in the latency and storm smokes.
  const peerLatency = await latency(options, 'peer');
  const seqcastLatency = options.smoke ? undefined : await latency(options, 'seqcast');
  const peerStorm = await storm(stormOptions, 'peer');
  const seqcastStorm = options.smoke ? undefined : await storm(stormOptions, 'seqcast');
  const results = [peerLatency, seqcastLatency, peerStorm, seqcastStorm].filter((r): r is ScenarioResult => r !== undefined);
  return {
    title: 'Socket.IO + redis-streams-adapter (connection state recovery) vs Seqcast, same run',
    table: {
      // One table of two shapes: the latency rows, then the storm rows under their own header row.
      columns: peerLatency.table.columns,
      rows: [
        ...peerLatency.table.rows,
        ...(seqcastLatency?.table.rows ?? []),
        peerStorm.table.columns,
        ...peerStorm.table.rows,
        ...(seqcastStorm?.table.rows ?? []),
      ],
    },
    notes: results.flatMap((r) => r.notes),
    series: [...peerLatency.series, ...(seqcastLatency?.series ?? [])],
    data: { latency: { peer: peerLatency.data, seqcast: seqcastLatency?.data }, storm: { peer: peerStorm.data, seqcast: seqcastStorm?.data } },
  };
}
