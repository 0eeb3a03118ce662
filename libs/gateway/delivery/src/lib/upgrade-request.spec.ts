import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { releaseUpgradeRequest, releaseUpgradeResponseRequest } from './upgrade-request';

describe('upgrade request release', () => {
  it("drops the upgrade stand-in response's reference to the request, then goes on", () => {
    const req = {};
    const res = { req, socket: {} };
    const next = jest.fn();
    releaseUpgradeResponseRequest(req, res, next);
    expect(res.req).toBeNull();
    expect(next).toHaveBeenCalledWith();
  });

  it('leaves a real HTTP response (polling) and a foreign req alone', () => {
    const req = new IncomingMessage(new Socket());
    const res = new ServerResponse(req);
    const next = jest.fn();
    releaseUpgradeResponseRequest(req, res, next);
    expect(res.req).toBe(req);
    const other = { req: {} };
    releaseUpgradeResponseRequest(req, other, next);
    expect(other.req).not.toBeNull();
    expect(next).toHaveBeenCalledTimes(2);
  });

  it("drops engine.io's reference at connection with the handshake's headers and auth, and keeps the rest", () => {
    const handshake = { headers: { host: 'h', cookie: 'c' } as unknown, auth: { token: 'jwt' } as unknown, address: '10.0.0.1', url: '/socket.io/' };
    const socket = { conn: { request: {} as unknown }, handshake };
    releaseUpgradeRequest(socket);
    expect(socket.conn.request).toBeNull();
    expect(handshake).toEqual({ headers: {}, auth: {}, address: '10.0.0.1', url: '/socket.io/' });
    expect(() => releaseUpgradeRequest({})).not.toThrow();
  });
});
