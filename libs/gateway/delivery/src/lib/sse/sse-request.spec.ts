import { isSseRequestError, parseSseRequest, type RawSseRequest } from './sse-request';

function parse(raw: Partial<RawSseRequest>) {
  return parseSseRequest({ roomId: 'team-42:general', query: '', ...raw });
}

describe('parseSseRequest', () => {
  it('takes the token from Authorization or from access_token, never both', () => {
    expect(parse({ authorization: 'Bearer abc' })).toMatchObject({ token: 'abc', tokenSource: 'header' });
    expect(parse({ query: 'access_token=xyz' })).toMatchObject({ token: 'xyz', tokenSource: 'query' });
    expect(parse({})).toMatchObject({ token: undefined, tokenSource: 'none' });
    expect(parse({ authorization: 'Bearer abc', query: 'access_token=xyz' })).toMatchObject({ status: 401 });
    expect(parse({ authorization: 'Basic abc' })).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('starts live without a cursor, resumes from afterSeq (+epoch) or from Last-Event-ID', () => {
    const live = parse({});
    expect(isSseRequestError(live) ? undefined : live.afterSeq).toBeUndefined();
    expect(parse({ query: 'afterSeq=-1' })).toMatchObject({ afterSeq: -1, resumedFrom: 'query' });
    expect(parse({ query: 'afterSeq=42&epoch=e1' })).toMatchObject({ afterSeq: 42, epoch: 'e1', resumedFrom: 'query' });
    expect(parse({ lastEventId: 'e2:99' })).toMatchObject({ afterSeq: 99, epoch: 'e2', resumedFrom: 'last-event-id' });
  });

  it('lets Last-Event-ID win over the query cursor, which EventSource repeats on every reconnect', () => {
    expect(parse({ query: 'afterSeq=5&epoch=e1', lastEventId: 'e1:77' })).toMatchObject({ afterSeq: 77, epoch: 'e1' });
    // An empty Last-Event-ID is what a client that has seen no id yet may send.
    expect(parse({ query: 'afterSeq=5', lastEventId: '' })).toMatchObject({ afterSeq: 5 });
  });

  it('asks for the latest N with ?last= only while there is no cursor', () => {
    expect(parse({ query: 'last=50' })).toMatchObject({ last: 50 });
    const resumed = parse({ query: 'last=50', lastEventId: 'e1:77' });
    expect(resumed).toMatchObject({ afterSeq: 77, epoch: 'e1', resumedFrom: 'last-event-id' });
    expect(resumed).not.toHaveProperty('last');
    for (const bad of ['last=0', 'last=1001', 'last=2.5', 'last=-3', 'last=x', 'last=']) {
      expect(parse({ query: bad })).toMatchObject({ status: 400, message: 'last: must be an integer 1-1000' });
    }
    expect(parse({ query: 'last=5&afterSeq=3' })).toMatchObject({
      status: 400,
      message: 'last: cannot be combined with afterSeq',
    });
  });

  it('refuses with 400 naming every bad part', () => {
    const result = parse({ roomId: 'bad room', query: 'afterSeq=x&epoch=e1&foo=1', lastEventId: 'nonsense' });
    expect(result).toMatchObject({ status: 400, code: 'invalid_request' });
    const message = isSseRequestError(result) ? result.message : '';
    for (const part of ['roomId', 'afterSeq', 'foo: unknown parameter', 'Last-Event-ID']) expect(message).toContain(part);
    expect(parse({ query: 'epoch=e1' })).toMatchObject({ status: 400, message: expect.stringContaining('together with afterSeq') });
    expect(parse({ query: 'afterSeq=1&afterSeq=2' })).toMatchObject({ status: 400, message: expect.stringContaining('more than once') });
    expect(parse({ query: 'afterSeq=-2' })).toMatchObject({ status: 400 });
  });
});
