/**
 * One scenario on a running stack: fresh rooms, two resuming SDK subscribers (one through the TCP
 * proxy, one direct), publishers at a fixed rate, the fault at `faultAtMs`, load until the end,
 * then the settle, the history read over the HTTP API and the check.
 */
import { randomBytes } from 'node:crypto';
import { signToken } from '@seqcast/auth';
import type { HistoryPage } from '@seqcast/contracts';
import { TEST_JWT_SECRET } from '@seqcast/testing';
import { type CheckReport, check } from './checker';
import { now, sleep } from './clock';
import type { History, StoredMessage } from './history';
import { Recorder } from './recorder';
import type { Scenario, ScenarioContext } from './scenarios';
import type { Stack } from './stack/stack';
import { Publisher } from './workload/publisher';
import { Subscriber } from './workload/subscriber';

export interface LoadOptions {
  /** Messages per second over all publishers. */
  rate: number;
  rooms: number;
  publishers: number;
  /** Load before the fault is injected. */
  faultAtMs: number;
  /** Load kept up after the fault was lifted. */
  afterFaultMs: number;
  /** After the load stops: how long subscribers get to catch up. */
  settleMs: number;
  stallThresholdMs: number;
}

export interface ScenarioResult {
  scenario: Scenario;
  report?: CheckReport;
  /** The raw history, for results.json's neighbours (not printed). */
  history?: History;
  /** Publish attempts per outcome, with the distinct non-ok answers. */
  outcomes: Record<string, number>;
  answers: string[];
  faults: { name: string; at: number; until?: number }[];
  loadStart: number;
  error?: string;
  durationMs: number;
}

const token = () => signToken({ sub: 'chaos', rooms: ['chaos-*'] }, TEST_JWT_SECRET);

export async function runScenario(stack: Stack, scenario: Scenario, load: LoadOptions, log: (line: string) => void): Promise<ScenarioResult> {
  const started = now();
  const recorder = new Recorder();
  const tag = `${scenario.name}-${randomBytes(3).toString('hex')}`;
  const rooms = Array.from({ length: load.rooms }, (_, i) => `chaos-${tag}:r${i}`);
  const ctx: ScenarioContext = { stack, recorder, log, rooms, windows: [] };
  const subscribers: Subscriber[] = [];
  let stopping = false;
  let giveUpAt = Infinity;
  let publishing: Promise<unknown> = Promise.resolve();
  let error: string | undefined;
  let loadStart = now();
  try {
    await scenario.prepare?.(ctx);
    subscribers.push(new Subscriber('sub-a', recorder, { gatewayUrl: stack.gatewayProxyUrl, ingestUrl: stack.ingestUrl, token }));
    subscribers.push(new Subscriber('sub-b', recorder, { gatewayUrl: stack.gatewayUrl, ingestUrl: stack.ingestUrl, token }));
    await withTimeout(Promise.all(subscribers.map((s) => s.subscribe(rooms))), 30_000, 'subscribers to subscribe');

    const batchSize = 5;
    const intervalMs = Math.max(10, Math.round((1000 * batchSize * load.publishers) / load.rate));
    const publishers = Array.from(
      { length: load.publishers },
      (_, i) =>
        new Publisher(recorder, {
          ingestUrl: () => stack.ingestUrl,
          token,
          rooms: rooms.filter((_, r) => r % load.publishers === i || load.rooms < load.publishers),
          idPrefix: `${tag}-p${i}`,
          batchSize,
          intervalMs,
          attemptTimeoutMs: 5000,
          retryDelayMs: 250,
        }),
    );
    loadStart = now();
    publishing = Promise.all(publishers.map((p) => p.run(() => stopping, () => giveUpAt)));
    log(`${scenario.name}: load ${load.rate} msg/s over ${load.rooms} rooms; fault in ${load.faultAtMs / 1000} s`);
    await sleep(load.faultAtMs);
    log(`${scenario.name}: injecting: ${scenario.description}`);
    try {
      await scenario.inject(ctx);
    } catch (e) {
      error = `inject: ${e instanceof Error ? e.message : String(e)}`;
      log(`${scenario.name}: ${error}`);
    }
    log(`${scenario.name}: fault injected${recorder.faults.every((f) => f.until !== undefined) ? ' and lifted' : ' (kept)'}; load for ${load.afterFaultMs / 1000} s more`);
    await sleep(load.afterFaultMs);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    log(`${scenario.name}: ${error}`);
  } finally {
    stopping = true;
    giveUpAt = now() + 30_000;
  }
  await publishing;

  // Everything acknowledged must reach every subscriber; give them a bounded time to catch up.
  const acked = new Set(recorder.publishes.filter((p) => p.outcome === 'ok').map((p) => `${p.roomId}/${p.clientMsgId}`));
  const settleDeadline = now() + load.settleMs;
  for (const s of subscribers) {
    while (now() < settleDeadline) {
      const got = new Set(recorder.deliveries.filter((d) => d.subscriber === s.name && d.layer === 'app').map((d) => `${d.roomId}/${d.clientMsgId}`));
      if ([...acked].every((k) => got.has(k))) break;
      await sleep(250);
    }
  }
  for (const s of subscribers) s.close();

  let report: CheckReport | undefined;
  try {
    recorder.stored = await readAllHistory(stack, rooms);
    report = check(recorder.history(), { stallThresholdMs: load.stallThresholdMs, latencyWindows: ctx.windows });
  } catch (e) {
    error = [error, `history: ${e instanceof Error ? e.message : String(e)}`].filter(Boolean).join('; ');
  }
  try {
    await scenario.restore?.(ctx);
    await ensureStackHealthy(stack, log);
  } catch (e) {
    error = [error, `restore: ${e instanceof Error ? e.message : String(e)}`].filter(Boolean).join('; ');
  }
  const outcomes: Record<string, number> = {};
  const answers = new Set<string>();
  for (const p of recorder.publishes) {
    outcomes[p.outcome] = (outcomes[p.outcome] ?? 0) + 1;
    if (p.detail) answers.add(`${p.outcome}: ${p.detail.slice(0, 160)}`);
  }
  return {
    scenario,
    report,
    history: recorder.history(),
    outcomes,
    answers: [...answers].slice(0, 20),
    faults: recorder.faults,
    loadStart,
    error,
    durationMs: now() - started,
  };
}

async function readAllHistory(stack: Stack, rooms: string[]): Promise<Record<string, StoredMessage[]>> {
  const stored: Record<string, StoredMessage[]> = {};
  for (const roomId of rooms) {
    const messages: StoredMessage[] = [];
    let afterSeq = -1;
    for (;;) {
      const page = await retry(async () => {
        const res = await fetch(`${stack.ingestUrl}/v1/rooms/${roomId}/messages?afterSeq=${afterSeq}&limit=1000`, {
          headers: { authorization: `Bearer ${token()}` },
          signal: AbortSignal.timeout(10_000),
        });
        if (res.status !== 200) throw new Error(`GET history of ${roomId} -> ${res.status} ${await res.text()}`);
        return (await res.json()) as HistoryPage;
      }, 30_000);
      messages.push(...page.messages.map(({ roomId: r, seq, prevSeq, clientMsgId }) => ({ roomId: r, seq, prevSeq, clientMsgId })));
      const last = page.messages[page.messages.length - 1];
      if (!last || page.messages.length < 1000 || last.seq === page.headSeq) break;
      afterSeq = last.seq;
    }
    stored[roomId] = messages;
  }
  return stored;
}

/** Before the next scenario: every service running and ready (a scenario may have left one down). */
async function ensureStackHealthy(stack: Stack, log: (line: string) => void): Promise<void> {
  for (const service of Object.values(stack.services)) {
    if (!service.running) {
      log(`${service.name} is not running after the scenario; starting it`);
      await service.start();
    }
    await retry(async () => {
      if (!(await service.ready())) throw new Error(`${service.name} not ready`);
    }, 90_000);
  }
}

async function retry<T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (now() >= deadline) throw error;
      await sleep(500);
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
