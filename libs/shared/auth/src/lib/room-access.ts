import type { Capability, Principal } from './principal';

/**
 * Glob match where `*` is any run of characters (including none) and everything else is literal.
 * Hand-rolled rather than compiled to a RegExp: room ids are full of `.`, `:` and `-` that must stay
 * literal, and this matcher is bounded by pattern length × id length, so no pattern (say
 * `*a*a*a*a*b`) can make it backtrack exponentially.
 */
export function roomPatternMatches(pattern: string, roomId: string): boolean {
  let p = 0;
  let r = 0;
  let starAt = -1; // pattern index of the last `*` seen
  let starMatchedUpTo = 0; // roomId index that `*` currently extends to
  while (r < roomId.length) {
    if (p < pattern.length && pattern[p] === '*') {
      starAt = p++;
      starMatchedUpTo = r;
    } else if (p < pattern.length && pattern[p] === roomId[r]) {
      p++;
      r++;
    } else if (starAt >= 0) {
      // Let the last `*` swallow one more character and retry the rest of the pattern from there.
      p = starAt + 1;
      r = ++starMatchedUpTo;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

export function canAccessRoom(principal: Pick<Principal, 'grants'>, capability: Capability, roomId: string): boolean {
  return principal.grants[capability].some((pattern) => roomPatternMatches(pattern, roomId));
}
