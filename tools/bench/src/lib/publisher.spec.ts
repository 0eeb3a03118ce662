import { publishSockets } from './publisher';

describe('publishSockets', () => {
  it('defaults to 256 and takes a positive integer', () => {
    expect(publishSockets(undefined)).toBe(256);
    expect(publishSockets(' ')).toBe(256);
    expect(publishSockets('1024')).toBe(1024);
  });

  it('refuses anything else with the variable named', () => {
    expect(() => publishSockets('0')).toThrow('BENCH_PUBLISH_SOCKETS');
    expect(() => publishSockets('lots')).toThrow('positive integer');
  });
});
