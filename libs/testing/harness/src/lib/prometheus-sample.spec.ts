import { sample } from './prometheus-sample';

const TEXT = `# HELP seqcast_x_total things
# TYPE seqcast_x_total counter
seqcast_x_total{service="ingest-api",code="forbidden"} 3
seqcast_x_total{service="ingest-api",code="invalid_request"} 5
seqcast_x_total_created 17
seqcast_gauge 2.5`;

describe('sample', () => {
  it('finds a series by name and a subset of its labels', () => {
    expect(sample(TEXT, 'seqcast_x_total', { code: 'invalid_request' })).toBe(5);
    expect(sample(TEXT, 'seqcast_gauge')).toBe(2.5);
  });

  it('does not confuse a name with a longer one that starts with it, nor match missing series', () => {
    expect(sample(TEXT, 'seqcast_x_total', { code: 'internal' })).toBeUndefined();
    expect(sample(TEXT, 'seqcast_x')).toBeUndefined();
  });
});
