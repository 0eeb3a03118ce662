import { createCrashPoint, type CrashPointHost } from './fault-point';

function fakeHost(selected: string | undefined) {
  const arms: (() => void)[] = [];
  const host: CrashPointHost & { deaths: number } = {
    selected,
    deaths: 0,
    onArmSignal: (arm) => arms.push(arm),
    die: () => host.deaths++,
  };
  return { host, sendArmSignal: () => arms.forEach((arm) => arm()), arms };
}

describe('createCrashPoint', () => {
  it('is inert without SEQCAST_FAULT_POINT: no signal handler, never dies', () => {
    const { host, arms, sendArmSignal } = fakeHost(undefined);
    const crashPoint = createCrashPoint(host);
    expect(arms).toHaveLength(0);
    sendArmSignal();
    crashPoint('after-db-commit');
    expect(host.deaths).toBe(0);
  });

  it('dies at the selected point only, and only once armed by the signal', () => {
    const { host, sendArmSignal } = fakeHost('after-db-commit');
    const crashPoint = createCrashPoint(host);
    crashPoint('after-db-commit');
    expect(host.deaths).toBe(0);

    sendArmSignal();
    crashPoint('before-db-commit');
    crashPoint('before-offset-commit');
    expect(host.deaths).toBe(0);
    crashPoint('after-db-commit');
    expect(host.deaths).toBe(1);
  });
});
