/** The console server's small API (apps/web-console/server/console-server.cjs). */
export interface ConsoleConfig {
  /** Where the browser reaches the edge-gateway (Socket.IO). */
  gatewayUrl: string;
  /** Whether the server mints development tokens (never in production). */
  devTokens: boolean;
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`/config.json answered ${response.status}`);
  return (await response.json()) as ConsoleConfig;
}

export async function mintDevToken(sub: string, rooms: string[]): Promise<string> {
  const response = await fetch('/dev-token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub, rooms }),
  });
  const body = (await response.json().catch(() => ({}))) as { token?: string; error?: { message?: string } };
  if (!response.ok || !body.token) throw new Error(body.error?.message ?? `/dev-token answered ${response.status}`);
  return body.token;
}

/** The `sub` of a JWT, for display only (the servers verify the token; the console does not). */
export function tokenSubject(token: string): string | undefined {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: unknown };
    return typeof payload.sub === 'string' ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}
