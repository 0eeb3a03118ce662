import { ApiError } from './api-error';
import { parseRoomParam } from './room-param';

describe('parseRoomParam', () => {
  it('returns a valid room id as it is', () => {
    expect(parseRoomParam('room-1.a:b_c')).toBe('room-1.a:b_c');
  });

  it.each([['a b'], [''], ['x'.repeat(1000)], [undefined]])('refuses %j with a 400 that names roomId', (roomId) => {
    let caught: unknown;
    try {
      parseRoomParam(roomId);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).status).toBe(400);
    expect((caught as ApiError).message).toMatch(/^roomId: /);
  });
});
