import { parseCpuSeconds, parseRssBytes } from './proc';

describe('/proc parsing', () => {
  it('reads utime + stime even when the command name has spaces and parentheses', () => {
    const line = '4242 (node (edge) gw) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 11 0 123 456 789';
    expect(parseCpuSeconds(line)).toBe(3);
  });

  it('refuses a line it does not understand', () => {
    expect(() => parseCpuSeconds('garbage')).toThrow(/unexpected/);
  });

  it('reads VmRSS in bytes', () => {
    expect(parseRssBytes('Name:\tnode\nVmRSS:\t  102400 kB\nThreads: 11\n')).toBe(100 * 1024 * 1024);
    expect(parseRssBytes('Name:\tnode\n')).toBeNaN();
  });
});
