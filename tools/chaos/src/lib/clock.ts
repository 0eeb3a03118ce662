/**
 * The recorder's clock: wall-clock milliseconds derived from the monotonic timer, so the clock-skew
 * scenario (which moves the clients' Date.now) and NTP steps never bend the measured windows.
 */
export const now = (): number => performance.timeOrigin + performance.now();

const realDateNow = Date.now.bind(Date);

/** Shifts Date.now (and `new Date()` is left alone: jsonwebtoken and the SDK read Date.now). 0 undoes it. */
export function skewClientClock(offsetMs: number): void {
  Date.now = offsetMs === 0 ? realDateNow : () => realDateNow() + offsetMs;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
