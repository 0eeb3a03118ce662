import { Logger } from '@nestjs/common';
import { TokenVerifier } from '@seqcast/auth';
import type { MessagesEvent, SubscribeAck } from '@seqcast/contracts';
import { DeliveryGateway } from './delivery.gateway';
import { DrainService } from './drain.service';
import type { GatewayServer, GatewaySocket } from './socket-types';
import { SubscriptionService } from './subscription.service';
import { chain, EPOCH, InMemoryHistory, message } from '../testing';

interface FakeSocket {
  id: string;
  disconnected: boolean;
  data: GatewaySocket['data'];
  emitted: MessagesEvent[];
  emit(event: 'messages', payload: MessagesEvent): boolean;
}

function fakeSocket(id: string, roomPatterns = ['team-*']): FakeSocket {
  const socket: FakeSocket = {
    id,
    disconnected: false,
    data: {
      principal: {
        userId: id,
        kind: 'token',
        grants: { publish: [], subscribe: roomPatterns, history: [] },
        expiresAt: new Date(Date.now() + 60_000),
      },
    },
    emitted: [],
    emit: (_event, payload) => {
      socket.emitted.push(payload);
      return true;
    },
  };
  return socket;
}

function setup() {
  const history = new InMemoryHistory();
  const subscriptions = new SubscriptionService(history);
  const gateway = new DeliveryGateway(TokenVerifier.withSecret('unit-test-secret'), subscriptions, new DrainService());
  return { history, subscriptions, gateway };
}

const asSocket = (socket: FakeSocket) => socket as unknown as GatewaySocket;

async function subscribeAck(gateway: DeliveryGateway, socket: FakeSocket, body: unknown): Promise<SubscribeAck> {
  const ack = jest.fn();
  await gateway.subscribe(asSocket(socket), body, ack);
  expect(ack).toHaveBeenCalledTimes(1);
  return ack.mock.calls[0][0] as SubscribeAck;
}

beforeAll(() => Logger.overrideLogger(false));
afterAll(() => Logger.overrideLogger(true));

describe('DeliveryGateway subscribe', () => {
  it.each([
    ['a string', 'team-1'],
    ['a number', 42],
    ['null', null],
    ['nothing', undefined],
    ['an array', [{ roomId: 'team-1' }]],
    ['an unknown field', { roomId: 'team-1', since: 3 }],
    ['a bad room id', { roomId: 'team 1' }],
    ['a bad afterSeq', { roomId: 'team-1', afterSeq: -2 }],
    ['a non-integer afterSeq', { roomId: 'team-1', afterSeq: '3' }],
  ])('answers invalid_request to %s', async (_case, body) => {
    const { gateway, subscriptions } = setup();
    const ack = await subscribeAck(gateway, fakeSocket('s1'), body);
    expect(ack).toEqual({ ok: false, error: { code: 'invalid_request', message: expect.any(String) } });
    expect(subscriptions.stats.subscriptions).toBe(0);
  });

  it('names the bad field', async () => {
    const { gateway } = setup();
    const ack = await subscribeAck(gateway, fakeSocket('s1'), { roomId: 'has space' });
    expect(ack.ok || ack.error.message).toMatch(/^roomId: /);
  });

  it('answers forbidden for a room the token does not grant', async () => {
    const { gateway, subscriptions } = setup();
    const ack = await subscribeAck(gateway, fakeSocket('s1', ['team-*']), { roomId: 'private-1' });
    expect(ack).toEqual({ ok: false, error: { code: 'forbidden', message: expect.stringContaining('private-1') } });
    expect(subscriptions.stats.subscriptions).toBe(0);
  });

  it('refuses a subscribe once the token is past exp, even before the expiry timer fires', async () => {
    const { gateway, subscriptions } = setup();
    const socket = fakeSocket('s1');
    socket.data.principal!.expiresAt = new Date(Date.now() - 1);
    const ack = await subscribeAck(gateway, socket, { roomId: 'team-1' });
    expect(ack).toEqual({ ok: false, error: { code: 'unauthorized', message: 'token expired' } });
    expect(subscriptions.stats.subscriptions).toBe(0);
  });

  it('refuses a room granted for publish or history but not subscribe', async () => {
    const { gateway } = setup();
    const socket = fakeSocket('s1', []);
    socket.data.principal!.grants.publish = ['team-*'];
    socket.data.principal!.grants.history = ['team-*'];
    expect(await subscribeAck(gateway, socket, { roomId: 'team-1' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('acks a granted room and delivers live messages to the socket', async () => {
    const { gateway, subscriptions, history } = setup();
    history.append(chain('team-1', [4]));
    const socket = fakeSocket('s1');
    await expect(subscribeAck(gateway, socket, { roomId: 'team-1' })).resolves.toEqual({
      ok: true,
      roomId: 'team-1',
      epoch: EPOCH,
      headSeq: 4,
    });
    subscriptions.dispatch('team-1', [message('team-1', 6, 4)]);
    expect(socket.emitted).toEqual([{ roomId: 'team-1', messages: [message('team-1', 6, 4)] }]);
  });

  it('survives a missing, a non-function and a throwing ack callback', async () => {
    const { gateway, subscriptions } = setup();
    const socket = asSocket(fakeSocket('s1'));
    await expect(gateway.subscribe(socket, { roomId: 'team-1' }, undefined)).resolves.toBeUndefined();
    await expect(gateway.subscribe(socket, 'garbage', 'not a function')).resolves.toBeUndefined();
    const throwing = () => {
      throw new Error('client went away');
    };
    await expect(gateway.subscribe(socket, { roomId: 'team-2' }, throwing)).resolves.toBeUndefined();
    expect(subscriptions.stats.subscriptions).toBe(2);
  });

  it('answers unavailable when PostgreSQL is down', async () => {
    const { gateway, history } = setup();
    history.failuresLeft = 1;
    const ack = await subscribeAck(gateway, fakeSocket('s1'), { roomId: 'team-1' });
    expect(ack).toEqual({ ok: false, error: { code: 'unavailable', message: expect.any(String) } });
  });

  it('drops what a socket subscribed while it was disconnecting', async () => {
    const { gateway, subscriptions } = setup();
    const socket = fakeSocket('s1');
    const pending = gateway.subscribe(asSocket(socket), { roomId: 'team-1' }, jest.fn());
    socket.disconnected = true;
    gateway.handleDisconnect(asSocket(socket));
    await pending;
    expect(subscriptions.stats.subscriptions).toBe(0);
  });
});

describe('DeliveryGateway unsubscribe and disconnect', () => {
  it('validates unsubscribe and acks it', async () => {
    const { gateway, subscriptions } = setup();
    const socket = fakeSocket('s1');
    await subscribeAck(gateway, socket, { roomId: 'team-1' });

    const bad = jest.fn();
    await gateway.unsubscribe(asSocket(socket), { room: 'team-1' }, bad);
    expect(bad).toHaveBeenCalledWith({ ok: false, error: { code: 'invalid_request', message: expect.any(String) } });
    await expect(gateway.unsubscribe(asSocket(socket), 17, undefined)).resolves.toBeUndefined();

    const ok = jest.fn();
    await gateway.unsubscribe(asSocket(socket), { roomId: 'team-1' }, ok);
    expect(ok).toHaveBeenCalledWith({ ok: true, roomId: 'team-1' });
    subscriptions.dispatch('team-1', [message('team-1', 0, null)]);
    expect(socket.emitted).toEqual([]);
  });

  it('forgets a disconnected socket', async () => {
    const { gateway, subscriptions } = setup();
    const socket = fakeSocket('s1');
    await subscribeAck(gateway, socket, { roomId: 'team-1' });
    await subscribeAck(gateway, socket, { roomId: 'team-2' });
    gateway.handleDisconnect(asSocket(socket));
    expect(subscriptions.stats).toEqual({ rooms: 0, subscriptions: 0 });
  });

  it('installs the handshake middleware on the server', () => {
    const { gateway } = setup();
    const use = jest.fn();
    gateway.afterInit({ use } as unknown as GatewayServer);
    expect(use).toHaveBeenCalledWith(expect.any(Function));
  });
});

describe('DeliveryGateway acks and connection lifecycle', () => {
  it('forwards valid acks and ignores malformed ones without throwing', async () => {
    const { gateway, subscriptions, history } = setup();
    history.append(chain('team-1', [4]));
    const socket = fakeSocket('s1');
    await subscribeAck(gateway, socket, { roomId: 'team-1' });
    subscriptions.dispatch('team-1', [message('team-1', 6, 4)]);
    expect(subscriptions.details.unackedMessages).toBe(1);

    for (const bad of [undefined, 'x', { roomId: 'team-1' }, { roomId: 'team-1', seq: -1 }, { roomId: 'team-1', seq: 6, x: 1 }]) {
      expect(() => gateway.ack(asSocket(socket), bad)).not.toThrow();
    }
    gateway.ack(asSocket(socket), { roomId: 'team-1', seq: 99 }); // beyond what was delivered: ignored
    expect(subscriptions.details.unackedMessages).toBe(1);
    gateway.ack(asSocket(socket), { roomId: 'team-1', seq: 6 });
    expect(subscriptions.details.unackedMessages).toBe(0);
  });

  it('starts a delivery session on connection and frees it on the disconnect event', async () => {
    const { gateway, subscriptions } = setup();
    const listeners = new Map<string, (this: unknown, reason: string) => void>();
    const socket = Object.assign(fakeSocket('s1'), {
      conn: { request: { headers: {} } as unknown },
      on: (event: string, listener: (this: unknown, reason: string) => void) => listeners.set(event, listener),
    });
    gateway.handleConnection(asSocket(socket));
    expect(subscriptions.details.sessions).toBe(1);
    // The handshake is over: the upgrade request is not kept for the connection's lifetime.
    expect(socket.conn.request).toBeNull();
    await subscribeAck(gateway, socket, { roomId: 'team-1' });
    // EventEmitter calls the (shared) listener with the socket as `this`.
    listeners.get('disconnect')?.call(socket, 'ping timeout');
    expect(subscriptions.details).toMatchObject({ sessions: 0, subscriptions: 0 });
  });
});
