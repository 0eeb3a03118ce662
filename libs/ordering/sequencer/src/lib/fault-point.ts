/**
 * Test-only crash points for the chaos suite (tools/chaos). Inert unless SEQCAST_FAULT_POINT names
 * a point; the Helm chart never sets it (tools/deploy-checks asserts that). When set, the point is
 * armed by SIGUSR2 sent to this pid, so the suite chooses the moment, and the next pass through the
 * point dies with SIGKILL: no shutdown hooks, no rollback but PostgreSQL's own, no goodbyes.
 */
export type FaultPoint = 'before-db-commit' | 'after-db-commit' | 'before-offset-commit';

const selected = process.env['SEQCAST_FAULT_POINT'];
let armed = false;
if (selected) process.on('SIGUSR2', () => (armed = true));

export function crashPoint(point: FaultPoint): void {
  if (armed && point === selected) process.kill(process.pid, 'SIGKILL');
}
