/**
 * Test-only crash points for the chaos suite (tools/chaos). Inert unless SEQCAST_FAULT_POINT names
 * a point; the Helm chart never sets it (tools/deploy-checks asserts that). When set, the point is
 * armed by SIGUSR2 sent to this pid, so the suite chooses the moment, and the next pass through the
 * point dies with SIGKILL: no shutdown hooks, no rollback but PostgreSQL's own, no goodbyes.
 */
export type FaultPoint = 'before-db-commit' | 'after-db-commit' | 'before-offset-commit';

export interface CrashPointHost {
  selected: string | undefined;
  onArmSignal(arm: () => void): void;
  die(): void;
}

export function createCrashPoint(host: CrashPointHost): (point: FaultPoint) => void {
  let armed = false;
  if (host.selected) host.onArmSignal(() => (armed = true));
  return (point) => {
    if (armed && point === host.selected) host.die();
  };
}

export const crashPoint = createCrashPoint({
  selected: process.env['SEQCAST_FAULT_POINT'],
  onArmSignal: (arm) => process.on('SIGUSR2', arm),
  die: () => process.kill(process.pid, 'SIGKILL'),
});
