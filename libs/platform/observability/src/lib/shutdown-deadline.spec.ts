import { EventEmitter } from 'node:events';
import { FORCED_EXIT_CODE, installShutdownDeadline } from './shutdown-deadline';

function setup(timeoutMs = 1_000) {
  const source = new EventEmitter();
  const exits: number[] = [];
  const lines: string[] = [];
  const logger = { error: (m: string) => lines.push(`error ${m}`), warn: (m: string) => lines.push(`warn ${m}`) };
  const uninstall = installShutdownDeadline({ timeoutMs, logger, source, exit: (code) => exits.push(code) });
  return { source, exits, lines, uninstall };
}

describe('installShutdownDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('does nothing before a signal', () => {
    const { exits } = setup();
    jest.advanceTimersByTime(60_000);
    expect(exits).toEqual([]);
  });

  it('forces exit when the graceful path overruns the timeout', () => {
    const { source, exits, lines } = setup(1_000);
    source.emit('SIGTERM', 'SIGTERM');
    jest.advanceTimersByTime(999);
    expect(exits).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(exits).toEqual([FORCED_EXIT_CODE]);
    expect(lines.join('\n')).toMatch(/did not finish within 1000 ms/);
  });

  it('forces exit at once on a second signal', () => {
    const { source, exits, lines } = setup(20_000);
    source.emit('SIGTERM', 'SIGTERM');
    source.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([FORCED_EXIT_CODE]);
    expect(lines.at(-1)).toMatch(/second SIGINT/);
    jest.advanceTimersByTime(60_000);
    expect(exits).toHaveLength(1);
  });

  it('stops listening once uninstalled', () => {
    const { source, exits, uninstall } = setup();
    uninstall();
    source.emit('SIGTERM', 'SIGTERM');
    jest.advanceTimersByTime(60_000);
    expect(exits).toEqual([]);
    expect(source.listenerCount('SIGTERM')).toBe(0);
  });
});
