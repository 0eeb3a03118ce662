import { listenTarget, supportsReusePort } from './listen';

describe('listen', () => {
  it.each([
    ['20.20.2', false],
    ['22.11.0', false],
    ['22.12.0', true],
    ['22.22.1', true],
    ['23.0.0', false],
    ['23.1.0', true],
    ['24.0.0', true],
  ])('reusePort on Node %s: %s', (version, expected) => {
    expect(supportsReusePort(version)).toBe(expected);
  });

  it('asks for reusePort only where the runtime has it', () => {
    expect(listenTarget(3001, '0.0.0.0', true)).toEqual({ port: 3001, host: '0.0.0.0', reusePort: true });
    expect(listenTarget(3001, '0.0.0.0', false)).toEqual({ port: 3001, host: '0.0.0.0' });
  });

  it('passes the accept queue length on', () => {
    expect(listenTarget(3001, '0.0.0.0', true, 4096)).toEqual({ port: 3001, host: '0.0.0.0', backlog: 4096, reusePort: true });
  });
});
