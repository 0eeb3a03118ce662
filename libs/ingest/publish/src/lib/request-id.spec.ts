import { requestIdFrom } from './request-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('requestIdFrom', () => {
  it('keeps a sane caller-supplied id', () => {
    for (const id of ['abc', 'req-42', '0f8e7d6c-1b2a-4c3d-9e8f-7a6b5c4d3e2f', 'trace:span/1+x=']) {
      expect(requestIdFrom(id)).toBe(id);
    }
    expect(requestIdFrom(['first', 'second'])).toBe('first');
  });

  it('replaces a missing, empty, overlong or log-breaking id with a fresh UUID', () => {
    for (const bad of [undefined, '', 'x'.repeat(129), 'two words', 'line\nbreak', '"quoted"', 'tab\there', 'ünï']) {
      expect(requestIdFrom(bad)).toMatch(UUID);
    }
    expect(requestIdFrom(undefined)).not.toBe(requestIdFrom(undefined));
  });
});
