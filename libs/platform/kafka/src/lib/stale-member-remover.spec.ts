import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  ResponseError,
  TimeoutError,
} from '@platformatic/kafka';
import { afterFailedAttempt, classifyRemovalFailure, platformaticSecurityOptions } from './stale-member-remover';

const LEAVE_GROUP = 13;

/** What removeMembersFromConsumerGroup rejects with: its own wrapper around the attempt's error. */
const wrapped = (error: Error) => new MultipleErrors('Removing members from consumer group failed.', [error]);

describe('classifyRemovalFailure', () => {
  it('treats a member the coordinator does not know (per member or for the group) as gone', () => {
    const perMember = new ResponseError(LEAVE_GROUP, 5, { '/members/0': [25, null] }, {});
    expect(classifyRemovalFailure(wrapped(perMember))).toBe('gone');
    expect(classifyRemovalFailure(wrapped(new ProtocolError('GROUP_ID_NOT_FOUND')))).toBe('gone');
  });

  it('retries, with the give-up clock running, when the broker answered with another error', () => {
    expect(classifyRemovalFailure(wrapped(new ProtocolError('COORDINATOR_LOAD_IN_PROGRESS')))).toBe('answered');
    const findCoordinator = new MultipleErrors('findCoordinator failed', [
      new ProtocolError('COORDINATOR_NOT_AVAILABLE'),
    ]);
    expect(classifyRemovalFailure(wrapped(findCoordinator))).toBe('answered');
    expect(classifyRemovalFailure(wrapped(new AuthenticationError('SASL authentication failed')))).toBe('answered');
  });

  it('retries without the clock running when no broker answered', () => {
    const refused = new NetworkError('Connection to 127.0.0.1:9 failed.', { cause: new Error('connect ECONNREFUSED') });
    expect(classifyRemovalFailure(wrapped(refused))).toBe('unreachable');
    expect(classifyRemovalFailure(wrapped(new TimeoutError('Connection to 127.0.0.1:9 timed out.')))).toBe(
      'unreachable',
    );
    expect(classifyRemovalFailure(new Error('anything else'))).toBe('unreachable');
    expect(classifyRemovalFailure(undefined)).toBe('unreachable');
  });
});

describe('afterFailedAttempt', () => {
  const GIVE_UP_MS = 12_000;

  it('ends a removal whose member is gone', () => {
    expect(afterFailedAttempt('gone', 1_000, 2_000, GIVE_UP_MS).next).toBe('already gone');
  });

  it('keeps trying while no broker answers, however long that takes: the session has not started expiring', () => {
    expect(afterFailedAttempt('unreachable', undefined, 10 * 60_000, GIVE_UP_MS)).toEqual({
      next: 'retry',
      answeredAt: undefined,
    });
  });

  it('starts the give-up clock at the first answer and gives up once it ran for giveUpAfterMs', () => {
    expect(afterFailedAttempt('answered', undefined, 50_000, GIVE_UP_MS)).toEqual({
      next: 'retry',
      answeredAt: 50_000,
    });
    expect(afterFailedAttempt('answered', 50_000, 61_999, GIVE_UP_MS)).toEqual({ next: 'retry', answeredAt: 50_000 });
    // A broker that answered, then went away again: the clock keeps running.
    expect(afterFailedAttempt('unreachable', 50_000, 62_000, GIVE_UP_MS)).toEqual({
      next: 'give up',
      answeredAt: 50_000,
    });
  });
});

describe('platformaticSecurityOptions', () => {
  it('is plaintext without TLS and SASL settings', () => {
    expect(platformaticSecurityOptions({})).toEqual({});
  });

  it('maps TLS and each SASL mechanism as securityOptions does for kafkajs', () => {
    expect(
      platformaticSecurityOptions({
        ssl: { ca: 'CA', cert: 'CERT', key: 'KEY', rejectUnauthorized: true },
        sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
      }),
    ).toEqual({
      tls: { ca: 'CA', cert: 'CERT', key: 'KEY', rejectUnauthorized: true },
      tlsServerName: true,
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' },
    });
    expect(platformaticSecurityOptions({ ssl: { rejectUnauthorized: false } })).toEqual({
      tls: { rejectUnauthorized: false },
      tlsServerName: true,
    });
    expect(
      platformaticSecurityOptions({ sasl: { mechanism: 'plain', username: 'u', password: 'p' } }).sasl?.mechanism,
    ).toBe('PLAIN');
    expect(
      platformaticSecurityOptions({ sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' } }).sasl
        ?.mechanism,
    ).toBe('SCRAM-SHA-256');
  });
});
