import { labelledValue, metricValue, runtimeStats, summarizeHops, workerBatchStats } from './hops';
import { extraServiceEnv } from './stack';

describe('metricValue', () => {
  const metrics = [
    '# HELP seqcast_worker_batch_duration_seconds Duration',
    'seqcast_worker_batch_duration_seconds_bucket{le="0.01",service="ordering-worker"} 3',
    'seqcast_worker_batch_duration_seconds_sum{service="ordering-worker"} 0.25',
    'seqcast_worker_batch_duration_seconds_count{service="ordering-worker"} 10',
    'seqcast_worker_sequenced_messages_total{service="ordering-worker"} 120',
    'seqcast_worker_sequenced_messages_total_extra 5',
  ].join('\n');

  it('sums a series over its labels and ignores longer names sharing its prefix', () => {
    expect(metricValue(metrics, 'seqcast_worker_sequenced_messages_total')).toBe(120);
    expect(metricValue(metrics, 'seqcast_worker_batch_duration_seconds_count')).toBe(10);
  });

  it('reads an absent series as 0', () => {
    expect(metricValue(metrics, 'nope')).toBe(0);
  });
});

describe('summarizeHops', () => {
  it('gives nearest-rank percentiles per hop', () => {
    const samples = Array.from({ length: 100 }, (_, i) => ({
      send: i % 2 === 0 ? NaN : 1,
      http: i,
      produceQueue: 1,
      worker: 2 * i,
      gateway: 3,
      total: 3 * i + 4,
    }));
    const summary = summarizeHops(samples);
    expect(summary['http']).toEqual({ p50: 50, p90: 90, p99: 99 });
    expect(summary['worker'].p50).toBe(100);
    expect(summary['produceQueue']).toEqual({ p50: 1, p90: 1, p99: 1 });
  });

  it('leaves out the samples a hop was not recorded for (NaN)', () => {
    const samples = [NaN, 5, NaN, 7].map((send, i) => ({ send, http: i, produceQueue: 0, worker: 0, gateway: 0, total: i }));
    expect(summarizeHops(samples)['send']).toEqual({ p50: 7, p90: 7, p99: 7 });
  });
});

describe('extraServiceEnv', () => {
  it('parses K=V pairs separated by commas', () => {
    expect(extraServiceEnv('A=1, B=x=y,')).toEqual({ A: '1', B: 'x=y' });
    expect(extraServiceEnv(undefined)).toEqual({});
  });

  it('refuses a pair without a name', () => {
    expect(() => extraServiceEnv('=1')).toThrow('K=V');
  });
});

describe('workerBatchStats', () => {
  it('averages the batches between two scrapes', () => {
    const scrape = (
      count: number,
      txSum: number,
      pubCount: number,
      pubSum: number,
      sequenced: number,
      commits: number,
    ) =>
      [
        `seqcast_worker_commit_groups_total{service="w"} ${commits}`,
        `seqcast_worker_batch_duration_seconds_count{service="w"} ${count}`,
        `seqcast_worker_batch_duration_seconds_sum{service="w"} ${txSum}`,
        `seqcast_worker_events_publish_duration_seconds_count{service="w"} ${pubCount}`,
        `seqcast_worker_events_publish_duration_seconds_sum{service="w"} ${pubSum}`,
        `seqcast_worker_sequenced_messages_total{service="w"} ${sequenced}`,
      ].join('\n');
    expect(workerBatchStats(scrape(10, 1, 10, 0.5, 100, 4), scrape(30, 1.4, 30, 0.7, 300, 9))).toEqual({
      batches: 20,
      commits: 5,
      messagesPerBatch: 10,
      transactionMs: 20,
      publishMs: 10,
    });
  });
});

describe('runtimeStats', () => {
  const scrape = (minorCount: number, minorSum: number, lagMax: number) =>
    [
      `nodejs_eventloop_lag_max_seconds{service="ingest-api"} ${lagMax}`,
      `nodejs_eventloop_lag_p99_seconds{service="ingest-api"} 0.012`,
      `nodejs_gc_duration_seconds_sum{service="ingest-api",kind="minor"} ${minorSum}`,
      `nodejs_gc_duration_seconds_count{service="ingest-api",kind="minor"} ${minorCount}`,
      `nodejs_gc_duration_seconds_count{service="ingest-api",kind="major"} 2`,
      `nodejs_gc_duration_seconds_sum{service="ingest-api",kind="major"} 0.1`,
    ].join('\n');

  it('takes the collections between the scrapes and the loop delay of the later one', () => {
    expect(runtimeStats(scrape(10, 0.02, 0.5), scrape(14, 0.03, 0.0251))).toEqual({
      loopP99Ms: 12,
      loopMaxMs: 25.1,
      gc: { minor: { count: 4, ms: 10 } },
    });
  });

  it('matches a label wherever the service put it among the labels', () => {
    expect(labelledValue(scrape(3, 0, 0), 'nodejs_gc_duration_seconds_count', 'kind="minor"')).toBe(3);
    expect(labelledValue('x_count{kind="minor",service="a"} 4', 'x_count', 'kind="minor"')).toBe(4);
    expect(labelledValue('x_count{kind="minorish"} 4', 'x_count', 'kind="minor"')).toBe(0);
  });
});
