import { waitFor } from './wait-for';

/** What a Seqcast service's `GET /readyz` answers (docs/protocol.md "Probes"). */
export interface ReadinessReply {
  status: number;
  body: { status: string; checks: Record<string, string> };
}

export async function fetchReadiness(baseUrl: string): Promise<ReadinessReply> {
  const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as Partial<ReadinessReply['body']>;
  return { status: response.status, body: { status: body.status ?? '', checks: body.checks ?? {} } };
}

/** Polls `/readyz` until it answers `status`; the timeout error names `what`. */
export function readinessBecomes(
  baseUrl: string,
  status: number,
  options: { what: string; timeoutMs?: number },
): Promise<ReadinessReply> {
  return waitFor(
    async () => {
      const reply = await fetchReadiness(baseUrl);
      return reply.status === status ? reply : undefined;
    },
    { timeoutMs: options.timeoutMs ?? 20_000, intervalMs: 200, what: options.what },
  );
}
