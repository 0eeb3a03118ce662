/**
 * The fault matrix. Each scenario injects one fault into a stack under load, by pid, and lifts it
 * again (or keeps it, where that is the point); the runner does the load, the recording and the check.
 */
import { createKafka } from '@seqcast/kafka';
import { now, skewClientClock, sleep } from './clock';
import type { Recorder } from './recorder';
import type { ServiceProcess } from './stack/service';
import type { Stack } from './stack/stack';

/** The worker's crash points (libs/ordering/sequencer fault-point.ts). */
type FaultPoint = 'before-db-commit' | 'after-db-commit' | 'before-offset-commit';

export interface ScenarioContext {
  stack: Stack;
  recorder: Recorder;
  log: (line: string) => void;
  rooms: string[];
  /** Latency windows the report should show (rolling deploy: steady vs roll). */
  windows: { name: string; from: number; to: number }[];
}

export interface Scenario {
  name: string;
  description: string;
  brokers: 1 | 3;
  /** Before the load starts (e.g. a worker with a crash point selected). */
  prepare?: (ctx: ScenarioContext) => Promise<void>;
  inject: (ctx: ScenarioContext) => Promise<void>;
  /** After the check: put the stack back the way the next scenario expects it. */
  restore?: (ctx: ScenarioContext) => Promise<void>;
}

async function killAndRestart(ctx: ScenarioContext, service: 'worker' | 'gateway' | 'ingest', downMs: number): Promise<void> {
  const target = ctx.stack[service];
  const lift = ctx.recorder.fault(`kill -9 ${target.name} (pid ${target.pid})`);
  await target.kill9();
  await sleep(downMs);
  await target.start();
  lift();
}

function workerCrashPoint(point: FaultPoint): Scenario {
  return {
    name: `worker-${point}`,
    description: `ordering-worker SIGKILLs itself ${point.replace(/-/g, ' ')} (SEQCAST_FAULT_POINT), replacement after 5 s`,
    brokers: 1,
    prepare: async ({ stack }) => {
      await stack.worker.terminate();
      await stack.worker.start({ SEQCAST_FAULT_POINT: point });
    },
    inject: async (ctx) => {
      const { worker } = ctx.stack;
      const lift = ctx.recorder.fault(`${worker.name} (pid ${worker.pid}) crash ${point}`);
      worker.signal('SIGUSR2'); // arms the crash point: the next batch through it dies
      const exited = await Promise.race([worker.whenExited().then(() => true), sleep(60_000).then(() => false)]);
      if (!exited) throw new Error(`the worker did not reach crash point ${point} within 60 s`);
      await sleep(5000);
      await worker.start();
      lift();
    },
  };
}

/** The busiest partition of the messages topic (most records so far) and its leader's node id. */
async function busiestLeader(ctx: ScenarioContext): Promise<{ partition: number; leader: number }> {
  const kafka = createKafka({ brokers: ctx.stack.kafka.bootstrap.split(','), clientId: 'chaos-admin' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets('chaos.messages');
    offsets.sort((a, b) => Number(b.high) - Number(a.high));
    const partition = offsets[0]?.partition ?? 0;
    const { topics } = await admin.fetchTopicMetadata({ topics: ['chaos.messages'] });
    const leader = topics[0]?.partitions.find((p) => p.partitionId === partition)?.leader ?? -1;
    if (leader < 0) throw new Error(`partition ${partition} of chaos.messages has no leader`);
    return { partition, leader };
  } finally {
    await admin.disconnect();
  }
}

async function waitFullIsr(ctx: ScenarioContext, timeoutMs = 120_000): Promise<void> {
  const kafka = createKafka({ brokers: ctx.stack.kafka.bootstrap.split(','), clientId: 'chaos-admin' });
  const admin = kafka.admin();
  await admin.connect();
  const deadline = now() + timeoutMs;
  try {
    for (;;) {
      const { topics } = await admin.fetchTopicMetadata({ topics: ['chaos.messages', 'chaos.events'] });
      const short = topics.flatMap((t) => t.partitions).filter((p) => p.isr.length < p.replicas.length);
      if (short.length === 0) return;
      if (now() > deadline) throw new Error(`${short.length} partitions still under-replicated after ${timeoutMs} ms`);
      await sleep(500);
    }
  } finally {
    await admin.disconnect();
  }
}

function brokerKeptDown(): Scenario {
  let downNode: number | undefined;
  return {
    name: 'cluster-broker-down',
    description: '3 brokers: kill -9 the leader of the busiest partition and keep it down',
    brokers: 3,
    inject: async (ctx) => {
      const { leader } = await busiestLeader(ctx);
      ctx.recorder.fault(`kill -9 broker ${leader} (pid ${ctx.stack.kafka.pidOf(leader)}), kept down`);
      downNode = leader;
      await ctx.stack.kafka.kill9(leader);
    },
    restore: async (ctx) => {
      if (downNode) await ctx.stack.kafka.startNode(downNode);
      downNode = undefined;
      await waitFullIsr(ctx);
    },
  };
}

/** Restarts worker, ingest-api and gateway one by one with `restart`, and records the latency windows. */
function rollingDeploy(name: string, description: string, restart: (ctx: ScenarioContext, service: ServiceProcess) => Promise<void>): Scenario {
  return {
    name,
    description,
    brokers: 1,
    inject: async (ctx) => {
      const started = now();
      // Messages published in the last seconds before the roll are still in flight when it starts.
      ctx.windows.push({ name: 'steady (until 5 s before the roll)', from: 0, to: started - 5000 });
      for (const service of [ctx.stack.worker, ctx.stack.ingest, ctx.stack.gateway]) {
        const lift = ctx.recorder.fault(`roll ${service.name} (old pid ${service.pid})`);
        await restart(ctx, service);
        lift();
      }
      ctx.windows.push({ name: 'roll', from: started, to: now() });
    },
  };
}

export const SCENARIOS: Scenario[] = [
  { name: 'baseline', description: 'no fault: the steady-state figures', brokers: 1, inject: async () => undefined },
  {
    name: 'kill-worker',
    description: 'kill -9 ordering-worker, replacement started 5 s later',
    brokers: 1,
    inject: (ctx) => killAndRestart(ctx, 'worker', 5000),
  },
  workerCrashPoint('before-db-commit'),
  workerCrashPoint('after-db-commit'),
  workerCrashPoint('before-offset-commit'),
  {
    name: 'kill-gateway',
    description: 'kill -9 edge-gateway, restarted 3 s later',
    brokers: 1,
    inject: (ctx) => killAndRestart(ctx, 'gateway', 3000),
  },
  {
    name: 'kill-ingest',
    description: 'kill -9 ingest-api, restarted 3 s later',
    brokers: 1,
    inject: (ctx) => killAndRestart(ctx, 'ingest', 3000),
  },
  {
    name: 'kafka-pause',
    description: 'SIGSTOP the broker for 15 s, then SIGCONT',
    brokers: 1,
    inject: async (ctx) => {
      const lift = ctx.recorder.fault(`SIGSTOP Kafka (pid ${ctx.stack.kafka.pidOf()})`);
      ctx.stack.kafka.signalNode(1, 'SIGSTOP');
      try {
        await sleep(15_000);
      } finally {
        ctx.stack.kafka.signalNode(1, 'SIGCONT');
      }
      lift();
    },
  },
  {
    name: 'kafka-kill',
    description: 'kill -9 the broker, restarted 5 s later (restart time on top)',
    brokers: 1,
    inject: async (ctx) => {
      const lift = ctx.recorder.fault(`kill -9 Kafka (pid ${ctx.stack.kafka.pidOf()})`);
      await ctx.stack.kafka.kill9();
      await sleep(5000);
      await ctx.stack.kafka.startNode();
      lift();
    },
  },
  {
    name: 'postgres-kill',
    description: "kill -9 the run's own PostgreSQL postmaster, restarted 3 s later",
    brokers: 1,
    inject: async (ctx) => {
      const lift = ctx.recorder.fault(`kill -9 PostgreSQL (pid ${ctx.stack.postgres.pid})`);
      await ctx.stack.postgres.kill9();
      await sleep(3000);
      await ctx.stack.postgres.start();
      lift();
    },
  },
  {
    name: 'net-drop',
    description: 'client-gateway network: connections reset and refused for 5 s (sub-a only)',
    brokers: 1,
    inject: async (ctx) => {
      const lift = ctx.recorder.fault('proxy cut');
      await ctx.stack.gatewayProxy.cut();
      await sleep(5000);
      await ctx.stack.gatewayProxy.restore();
      lift();
    },
  },
  {
    name: 'net-delay',
    description: 'client-gateway network: +300 ms each way for 10 s (sub-a only)',
    brokers: 1,
    inject: async (ctx) => {
      const lift = ctx.recorder.fault('proxy delay 300 ms');
      ctx.stack.gatewayProxy.setDelay(300);
      await sleep(10_000);
      ctx.stack.gatewayProxy.setDelay(0);
      lift();
    },
  },
  {
    name: 'net-half-open',
    description: 'client-gateway network: silently drops everything for 15 s, connections stay open (sub-a only)',
    brokers: 1,
    inject: async (ctx) => {
      const lift = ctx.recorder.fault('proxy blackhole');
      ctx.stack.gatewayProxy.blackhole(true);
      await sleep(15_000);
      ctx.stack.gatewayProxy.blackhole(false);
      lift();
    },
  },
  {
    name: 'clock-skew',
    description: "clients' Date.now +5 min for 8 s, then -5 min for 8 s (tokens, SDK timers)",
    brokers: 1,
    inject: async (ctx) => {
      const lift = ctx.recorder.fault('client clock skew');
      try {
        skewClientClock(5 * 60_000);
        await sleep(8000);
        skewClientClock(-5 * 60_000);
        await sleep(8000);
      } finally {
        skewClientClock(0);
      }
      lift();
    },
  },
  rollingDeploy(
    'rolling-deploy',
    "every service in turn as the chart's rollout does (maxSurge 1, maxUnavailable 0): a new process ready, then SIGTERM (drain) to the old one; latency during the roll vs before",
    (ctx, service) => ctx.stack.surgeRestart(service.name),
  ),
  rollingDeploy(
    'rolling-in-place',
    'every service in turn restarted in place: SIGTERM (drain), exit, then a new process on the same port (no second instance meanwhile); latency during the roll vs before',
    async (_ctx, service) => {
      await service.terminate();
      await service.start();
    },
  ),
  {
    name: 'cluster-kill-leader',
    description: '3 brokers: kill -9 the leader of the busiest partition, restarted 10 s later',
    brokers: 3,
    inject: async (ctx) => {
      const { partition, leader } = await busiestLeader(ctx);
      const lift = ctx.recorder.fault(`kill -9 broker ${leader} (leader of partition ${partition}, pid ${ctx.stack.kafka.pidOf(leader)})`);
      await ctx.stack.kafka.kill9(leader);
      await sleep(10_000);
      await ctx.stack.kafka.startNode(leader);
      lift();
      await waitFullIsr(ctx);
    },
  },
  brokerKeptDown(),
  {
    name: 'cluster-roll',
    description: '3 brokers: clean restart of each broker in turn under load, waiting for full ISR between',
    brokers: 3,
    inject: async (ctx) => {
      for (let node = 1; node <= 3; node++) {
        const lift = ctx.recorder.fault(`restart broker ${node}`);
        await ctx.stack.kafka.stopNode(node);
        await ctx.stack.kafka.startNode(node);
        lift();
        await waitFullIsr(ctx);
      }
    },
  },
];

/** The CI variant: two scenarios that cover a process crash and a network fault, on one stack. */
export const SHORT_SET = ['kill-worker', 'net-drop'];
