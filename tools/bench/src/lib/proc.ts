import { readFileSync } from 'node:fs';

/** Linux USER_HZ; 100 on every mainstream kernel build (sysconf(_SC_CLK_TCK) is not reachable from Node). */
const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a /proc/<pid>/stat line, in seconds. The command name may contain spaces and parentheses. */
export function parseCpuSeconds(statLine: string): number {
  const fields = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected /proc stat line: ${statLine.slice(0, 80)}`);
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** VmRSS of a /proc/<pid>/status text, in bytes. */
export function parseRssBytes(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : NaN;
}

export function cpuSeconds(pid: number): number {
  try {
    return parseCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return NaN;
  }
}

export function rssBytes(pid: number): number {
  try {
    return parseRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return NaN;
  }
}

/** CPU use of named processes over a window: percent of one core (200 % = both cores of this box). */
export class CpuMeter {
  private start = new Map<string, number>();
  /** The latest reading per process, for one that exits before end() (a drained gateway). */
  private last = new Map<string, number>();
  private startedAt = 0;

  constructor(private readonly pids: () => Record<string, number | undefined>) {}

  begin(): void {
    this.startedAt = performance.now();
    this.start = new Map(Object.entries(this.pids()).map(([name, pid]) => [name, pid ? cpuSeconds(pid) : NaN]));
    this.last = new Map(this.start);
  }

  /** Takes a reading now; call it often enough while a process may exit before end(). */
  sample(): void {
    for (const [name, pid] of Object.entries(this.pids())) {
      const now = pid ? cpuSeconds(pid) : NaN;
      if (Number.isFinite(now)) this.last.set(name, now);
    }
  }

  /** Percent of one core per process since begin() (up to its last sample() if it has exited). */
  end(): Record<string, number> {
    const seconds = (performance.now() - this.startedAt) / 1000;
    this.sample();
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids())) {
      const before = this.start.get(name) ?? NaN;
      // One decimal: CPU per message is derived from this (ingest uses ~30 % at 1,000 msg/s, where a
      // whole percent is a 3 % step).
      out[name] = pid && seconds > 0 ? Math.round((((this.last.get(name) ?? NaN) - before) / seconds) * 1000) / 10 : NaN;
    }
    return out;
  }
}
