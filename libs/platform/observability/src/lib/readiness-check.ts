/** One dependency a service needs to do its job right now; `check` throws when it cannot. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

export type CheckResults = Record<string, string>;

/**
 * Runs every check concurrently, each bounded by `timeoutMs`, so one hung dependency makes the
 * service "not ready" quickly instead of hanging the probe (and the kubelet's probe timeout).
 */
export async function runReadinessChecks(
  checks: ReadinessCheck[],
  timeoutMs: number,
): Promise<{ ready: boolean; checks: CheckResults }> {
  const results = await Promise.all(
    checks.map(async (c): Promise<[string, string]> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([c.check(), timeout]);
        return [c.name, 'ok'];
      } catch (error) {
        return [c.name, `error: ${error instanceof Error ? error.message : String(error)}`];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: results.every(([, r]) => r === 'ok'), checks: Object.fromEntries(results) };
}
