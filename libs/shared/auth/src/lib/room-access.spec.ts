import { canAccessRoom, roomPatternMatches } from './room-access';

describe('roomPatternMatches', () => {
  it.each([
    ['team-42:*', 'team-42:general', true],
    ['team-42:*', 'team-42:', true],
    ['team-42:*', 'team-43:general', false],
    ['team-42:*', 'xteam-42:general', false],
    ['*', 'anything.at:all-1', true],
    ['*', '', true],
    ['lobby', 'lobby', true],
    ['lobby', 'lobby2', false],
    ['lobby', 'lobb', false],
    ['lobby', 'Lobby', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'abcbc', true],
    ['a*b*c', 'acb', false],
    ['a*b*c', 'abcd', false],
    ['*:general', 'team-1:general', true],
    ['*:general', 'team-1:generally', false],
    ['**', 'x', true],
    ['a**b', 'ab', true],
  ])('%s vs %s -> %s', (pattern, roomId, expected) => {
    expect(roomPatternMatches(pattern, roomId)).toBe(expected);
  });

  it('treats regex metacharacters literally', () => {
    expect(roomPatternMatches('team.1', 'team.1')).toBe(true);
    expect(roomPatternMatches('team.1', 'teamX1')).toBe(false);
    expect(roomPatternMatches('a+', 'aa')).toBe(false);
    expect(roomPatternMatches('a+', 'a+')).toBe(true);
    expect(roomPatternMatches('(a|b)', 'a')).toBe(false);
    expect(roomPatternMatches('[ab]?$^', '[ab]?$^')).toBe(true);
    expect(roomPatternMatches('.*', 'anything')).toBe(false);
    expect(roomPatternMatches('room\\d', 'room\\d')).toBe(true);
    expect(roomPatternMatches('room\\d', 'room1')).toBe(false);
  });

  it('stays fast on adversarial patterns', () => {
    const started = Date.now();
    expect(roomPatternMatches('*a'.repeat(60) + 'b', 'a'.repeat(128))).toBe(false);
    expect(Date.now() - started).toBeLessThan(200);
  });
});

describe('canAccessRoom', () => {
  const principal = {
    grants: { publish: ['team-42:*', 'lobby'], subscribe: ['lobby'], history: [] as string[] },
  };

  it('allows a room matching any pattern of that capability', () => {
    expect(canAccessRoom(principal, 'publish', 'team-42:general')).toBe(true);
    expect(canAccessRoom(principal, 'publish', 'lobby')).toBe(true);
    expect(canAccessRoom(principal, 'subscribe', 'lobby')).toBe(true);
  });

  it('denies a room matching none, and everything when the capability has no patterns', () => {
    expect(canAccessRoom(principal, 'publish', 'team-7:general')).toBe(false);
    expect(canAccessRoom(principal, 'subscribe', 'team-42:general')).toBe(false);
    expect(canAccessRoom(principal, 'history', 'lobby')).toBe(false);
  });
});
