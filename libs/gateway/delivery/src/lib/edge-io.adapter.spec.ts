import { EventEmitter } from 'node:events';
import { of } from 'rxjs';
import { EdgeIoAdapter } from './edge-io.adapter';

type Bind = EdgeIoAdapter['bindMessageHandlers'];

class FakeSocket extends EventEmitter {
  disconnected = false;
  readonly emitted: [string, unknown][] = [];
  override emit(event: string, ...args: unknown[]): boolean {
    if (event === 'subscribe' || event === 'ack' || event === 'echo') return super.emit(event, ...args);
    this.emitted.push([event, args[0]]);
    return true;
  }
}

function bind(socket: FakeSocket, handlers: { message: string; callback: (data: unknown, ack: unknown) => unknown; manual?: boolean }[]) {
  const adapter = new EdgeIoAdapter(undefined as never, { pingIntervalMs: 25_000, pingTimeoutMs: 20_000, allowedOrigins: ['*'] });
  (adapter.bindMessageHandlers as (...args: unknown[]) => void)(
    socket,
    handlers.map((h) => ({ message: h.message, methodName: h.message, callback: h.callback, isAckHandledManually: h.manual ?? false })),
    (result: unknown) => of(result),
  );
  return adapter as unknown as { bindMessageHandlers: Bind };
}

describe('EdgeIoAdapter message handlers', () => {
  it('passes the payload and the ack callback as Nest does, and answers through the ack', () => {
    const socket = new FakeSocket();
    const seen: unknown[] = [];
    bind(socket, [{ message: 'subscribe', callback: (data, ack) => (seen.push(data, typeof ack), { ok: true }) }]);
    const ack = jest.fn();
    socket.emit('subscribe', { roomId: 'r' }, ack);
    expect(seen).toEqual([{ roomId: 'r' }, 'function']);
    expect(ack).toHaveBeenCalledWith({ ok: true });
  });

  it('leaves the answer to a handler that acks by itself, and ignores empty results', () => {
    const socket = new FakeSocket();
    bind(socket, [
      { message: 'subscribe', callback: () => ({ ok: true }), manual: true },
      { message: 'ack', callback: () => undefined },
    ]);
    const ack = jest.fn();
    socket.emit('subscribe', { roomId: 'r' }, ack);
    socket.emit('ack', { roomId: 'r', seq: 1 }, ack);
    expect(ack).not.toHaveBeenCalled();
    expect(socket.emitted).toEqual([]);
  });

  it('emits results that name an event, and shapes several arguments as an array', () => {
    const socket = new FakeSocket();
    const seen: unknown[] = [];
    bind(socket, [{ message: 'echo', callback: (data) => (seen.push(data), { event: 'echoed', data }) }]);
    socket.emit('echo', 1, 2);
    expect(seen).toEqual([[1, 2]]);
    expect(socket.emitted).toEqual([['echoed', [1, 2]]]);
  });

  it('shares one listener per message between sockets, each reaching its own handler', () => {
    const adapter = new EdgeIoAdapter(undefined as never, { pingIntervalMs: 25_000, pingTimeoutMs: 20_000, allowedOrigins: ['*'] });
    const sockets = [new FakeSocket(), new FakeSocket()];
    const seen: string[] = [];
    sockets.forEach((socket, i) =>
      (adapter.bindMessageHandlers as (...args: unknown[]) => void)(
        socket,
        [{ message: 'subscribe', methodName: 'subscribe', callback: (data: unknown) => seen.push(`${i}:${String(data)}`), isAckHandledManually: true }],
        (result: unknown) => of(result),
      ),
    );
    expect(sockets[0].listeners('subscribe')[0]).toBe(sockets[1].listeners('subscribe')[0]);
    sockets[1].emit('subscribe', 'b');
    sockets[0].emit('subscribe', 'a');
    expect(seen).toEqual(['1:b', '0:a']);
  });

  it('gives a second handler of the same message on one socket a listener of its own', () => {
    const socket = new FakeSocket();
    const seen: string[] = [];
    bind(socket, [
      { message: 'subscribe', callback: () => seen.push('first') },
      { message: 'subscribe', callback: () => seen.push('second') },
    ]);
    socket.emit('subscribe', {});
    expect(seen).toEqual(['first', 'second']);
  });

  it('handles nothing once the socket is disconnected', () => {
    const socket = new FakeSocket();
    const callback = jest.fn();
    bind(socket, [{ message: 'subscribe', callback }]);
    socket.disconnected = true;
    socket.emit('subscribe', { roomId: 'r' });
    expect(callback).not.toHaveBeenCalled();
  });
});
