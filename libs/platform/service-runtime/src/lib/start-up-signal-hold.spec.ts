import { EventEmitter } from 'node:events';
import { holdSignalsDuringStartUp } from './start-up-signal-hold';

function setUp() {
  const source = new EventEmitter();
  const warnings: string[] = [];
  const hold = holdSignalsDuringStartUp({ source, logger: { warn: (message) => warnings.push(message) } });
  return { source, warnings, hold };
}

describe('holdSignalsDuringStartUp', () => {
  it('holds the first signal during start-up and hands it over on release', () => {
    const { source, warnings, hold } = setUp();
    source.emit('SIGTERM', 'SIGTERM');
    source.emit('SIGINT', 'SIGINT');
    expect(warnings).toEqual(['SIGTERM during start-up: shutting down once start-up has finished']);
    expect(hold.release()).toBe('SIGTERM');
  });

  it('hands over nothing when no signal came, and stops listening on release', () => {
    const { source, hold } = setUp();
    expect(source.listenerCount('SIGTERM')).toBe(1);
    expect(hold.release()).toBeUndefined();
    expect(source.listenerCount('SIGTERM')).toBe(0);
    expect(source.listenerCount('SIGINT')).toBe(0);
    source.emit('SIGTERM', 'SIGTERM');
    expect(hold.release()).toBeUndefined();
  });
});
