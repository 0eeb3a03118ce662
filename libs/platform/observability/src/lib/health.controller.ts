import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { READINESS_CHECKS, type ReadinessCheck, runReadinessChecks } from './readiness-check';
import { ShutdownState } from './shutdown-state';

export const READINESS_TIMEOUT_MS = 2_000;

const SHUTTING_DOWN = 'error: draining, the process is shutting down';

/** The one thing needed of the platform's response object (Express or Fastify alike). */
interface StatusSettable {
  status(code: number): unknown;
}

/**
 * `/healthz`: the process is alive (also while it drains: killing a draining process early is what
 * the drain exists to avoid). `/readyz`: it can do its job now: not shutting down, and every
 * dependency answers.
 */
@Controller()
export class HealthController {
  constructor(
    @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[],
    private readonly shutdown: ShutdownState,
  ) {}

  @Get('healthz')
  @HttpCode(200)
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res({ passthrough: true }) res: StatusSettable): Promise<{ status: string; checks: Record<string, string> }> {
    const result = await runReadinessChecks(this.checks, READINESS_TIMEOUT_MS);
    // Checked after the dependencies, so a shutdown that began while they were probed counts.
    if (this.shutdown.shuttingDown) {
      res.status(503);
      return { status: 'not_ready', checks: { shutdown: SHUTTING_DOWN, ...result.checks } };
    }
    res.status(result.ready ? 200 : 503);
    return { status: result.ready ? 'ready' : 'not_ready', checks: result.checks };
  }
}
