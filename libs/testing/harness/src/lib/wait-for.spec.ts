import { waitFor } from './wait-for';

describe('waitFor', () => {
  it('resolves with the first truthy probe result', async () => {
    let calls = 0;
    await expect(waitFor(() => (++calls >= 3 ? calls : undefined), { intervalMs: 1 })).resolves.toBe(3);
  });

  it('keeps polling through probe errors and resolves once the probe succeeds', async () => {
    let calls = 0;
    const probe = () => {
      if (++calls < 2) throw new Error('not yet');
      return 'done';
    };
    await expect(waitFor(probe, { intervalMs: 1 })).resolves.toBe('done');
  });

  it('names what it waited for and the last error when the deadline passes', async () => {
    const probe = () => {
      throw new Error('broker down');
    };
    await expect(waitFor(probe, { timeoutMs: 30, intervalMs: 5, what: 'the broker' })).rejects.toThrow(
      /timed out after 30 ms waiting for the broker \(last error: broker down\)/,
    );
  });
});
