import { clientAddress, ConnectionLimits, type LimitedSocket } from './connection-limits';

function socketOf(userId: string, address = '10.0.0.1', headers: Record<string, string> = {}) {
  let onClose: () => void = () => undefined;
  const socket: LimitedSocket = {
    handshake: { address, headers },
    data: { principal: { userId } },
    conn: { on: (_event, listener) => (onClose = listener) },
  };
  return { socket, close: () => onClose() };
}

function admit(limits: ConnectionLimits, socket: LimitedSocket): string | undefined {
  let result: string | undefined = 'not called';
  limits.middleware()(socket, (error) => (result = error?.message));
  return result;
}

describe('ConnectionLimits', () => {
  it('counts per principal and per address, and frees a slot when the connection closes', () => {
    const limits = new ConnectionLimits({ maxPerPrincipal: 2, maxPerAddress: 3 });
    const a1 = socketOf('alice');
    expect(admit(limits, a1.socket)).toBeUndefined();
    expect(admit(limits, socketOf('alice').socket)).toBeUndefined();
    expect(admit(limits, socketOf('alice').socket)).toBe('too_many_connections');
    expect(admit(limits, socketOf('bob').socket)).toBeUndefined();
    expect(admit(limits, socketOf('carol').socket)).toBe('too_many_connections');
    expect(admit(limits, socketOf('carol', '10.0.0.2').socket)).toBeUndefined();
    a1.close();
    expect(limits.countFor('alice', '10.0.0.1')).toEqual({ principal: 1, address: 2 });
    expect(admit(limits, socketOf('alice').socket)).toBeUndefined();
  });

  it('turns each limit off with 0, and then counts nothing for it', () => {
    const limits = new ConnectionLimits({ maxPerPrincipal: 0, maxPerAddress: 0 });
    for (let i = 0; i < 10; i++) expect(admit(limits, socketOf('alice').socket)).toBeUndefined();
    expect(limits.countFor('alice', '10.0.0.1')).toEqual({ principal: 0, address: 0 });
    const perAddressOnly = new ConnectionLimits({ maxPerPrincipal: 0, maxPerAddress: 2 });
    const first = socketOf('alice');
    expect(admit(perAddressOnly, first.socket)).toBeUndefined();
    expect(admit(perAddressOnly, socketOf('bob').socket)).toBeUndefined();
    expect(admit(perAddressOnly, socketOf('carol').socket)).toBe('too_many_connections');
    expect(perAddressOnly.countFor('alice', '10.0.0.1')).toEqual({ principal: 0, address: 2 });
    first.close();
    expect(admit(perAddressOnly, socketOf('carol').socket)).toBeUndefined();
  });

  it("reads the proxy's right-most X-Forwarded-For entry only when configured", () => {
    const { socket } = socketOf('a', '10.1.1.1', { 'x-forwarded-for': '6.6.6.6, 203.0.113.9' });
    expect(clientAddress(socket, undefined)).toBe('10.1.1.1');
    expect(clientAddress(socket, 'X-Forwarded-For')).toBe('203.0.113.9');
    expect(clientAddress(socketOf('a', '10.1.1.1').socket, 'X-Forwarded-For')).toBe('10.1.1.1');
  });
});
