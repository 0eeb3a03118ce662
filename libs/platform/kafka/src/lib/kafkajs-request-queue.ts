/**
 * kafkajs 2.2.4 (its last release; the project is unmaintained) re-arms a timer after every look at a
 * connection's queue of waiting requests, even when nothing waits and no broker throttle is in force:
 * `throttledUntil - Date.now()` is then negative, node clamps it to 1 ms, and the check re-arms
 * itself. So every open kafkajs connection runs a 1 kHz timer for as long as it is open
 * (tulios/kafkajs#1704; node ≥ 24 also prints a TimeoutNegativeWarning for it, #1751). The services
 * keep kafkajs admin connections open for readiness, lag and topic checks; measured here, one idle
 * admin connection cost 50 ms of CPU per second. The fix proposed upstream was never released, so
 * this applies it to the installed class, once per process: a check is scheduled only while
 * requests wait (at the throttle's end, or every 10 ms while the in-flight limit is reached, as
 * kafkajs does). With nothing waiting there is nothing to check: `push` schedules again when a
 * request has to wait, and every response or timeout checks the queue anyway.
 *
 * Only kafkajs 2.2.4 is patched: another version may have changed the class, and the spec fails on
 * an upgrade so that the patch is looked at again.
 */
export const PATCHED_KAFKAJS_VERSION = '2.2.4';
/** kafkajs' own interval while the in-flight limit holds requests back (CHECK_PENDING_REQUESTS_INTERVAL). */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;
const PATCHED = Symbol.for('seqcast.kafkajs.requestQueue.patched');

/** The fields and methods of kafkajs' RequestQueue the patch touches (kafkajs types none of them). */
export interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** The replacement for RequestQueue.prototype.scheduleCheckPendingRequests. */
export function scheduleCheckWhileRequestsWait(this: RequestQueueInternals): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  const delay = untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
}

/**
 * Applies the fix to the installed kafkajs (idempotent). Returns whether the installed class now has
 * it: false for a kafkajs other than 2.2.4, which is left as it is.
 */
export function fixKafkajsRequestQueue(): boolean {
  // Plain require: the bundles keep kafkajs external, so this is the very module kafkajs itself loads.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== PATCHED_KAFKAJS_VERSION) return false;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RequestQueue = require('kafkajs/src/network/requestQueue') as {
    prototype: RequestQueueInternals & { [PATCHED]?: true };
  };
  const prototype = RequestQueue.prototype;
  if (!prototype[PATCHED]) {
    prototype.scheduleCheckPendingRequests = scheduleCheckWhileRequestsWait;
    prototype[PATCHED] = true;
  }
  return true;
}
