import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { READINESS_CHECKS, type ReadinessCheck, runReadinessChecks } from './readiness-check';

export const READINESS_TIMEOUT_MS = 2_000;

/** The one thing needed of the platform's response object (Express or Fastify alike). */
interface StatusSettable {
  status(code: number): unknown;
}

/** `/healthz`: the process is alive. `/readyz`: it can do its job now (every dependency answers). */
@Controller()
export class HealthController {
  constructor(@Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[]) {}

  @Get('healthz')
  @HttpCode(200)
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res({ passthrough: true }) res: StatusSettable): Promise<{ status: string; checks: Record<string, string> }> {
    const result = await runReadinessChecks(this.checks, READINESS_TIMEOUT_MS);
    res.status(result.ready ? 200 : 503);
    return { status: result.ready ? 'ready' : 'not_ready', checks: result.checks };
  }
}
