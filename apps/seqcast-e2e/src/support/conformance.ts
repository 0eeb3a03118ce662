import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';

/**
 * Replays the language-neutral traces of docs/conformance (format: docs/conformance/README.md)
 * against running services, over a raw WebSocket and fetch: no Socket.IO client, exactly what a
 * client author in another language would send and must expect.
 */

export interface HttpStep {
  http: { method: 'GET' | 'POST'; path: string; headers?: Record<string, string>; body?: unknown };
  expect: { status: number; headers?: Record<string, string>; body?: unknown };
  /** Repeat the request until the expectation holds (e.g. until a publish is sequenced). */
  retryUntilMatch?: boolean;
}
export type Step = { comment?: string } & ({ ws: 'open' | 'close' } | { send: string } | { recv: string } | HttpStep);

export interface Trace {
  name: string;
  description: string;
  steps: Step[];
}

export interface Endpoints {
  ingestUrl: string;
  gatewayUrl: string;
  variables: Record<string, unknown>;
  /** Receives every frame and HTTP exchange as it happens (for recording samples). */
  log?: (line: string) => void;
}

const TIMEOUT_MS = 20_000;

export function loadTraces(dir: string): Trace[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as Trace);
}

/** `${name}` inside strings is replaced; a string that is exactly `${name}` becomes the bound value. */
export function substitute(value: unknown, vars: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{(\w+)\}$/.exec(value);
    if (whole) return lookup(vars, whole[1]);
    return value.replace(/\$\{(\w+)\}/g, (_, name: string) => String(lookup(vars, name)));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars)]));
  }
  return value;
}

function lookup(vars: Record<string, unknown>, name: string): unknown {
  if (!(name in vars)) throw new Error(`trace uses \${${name}} before binding it`);
  return vars[name];
}

/**
 * Structural match: `$any`, `$int`, `$string` (optionally `:name` to bind the value), `${name}`
 * for a bound value; objects must have exactly the expected keys (in any order).
 */
export function match(expected: unknown, actual: unknown, vars: Record<string, unknown>, path = '$'): string | null {
  if (typeof expected === 'string') {
    const matcher = /^\$(any|int|string)(?::(\w+))?$/.exec(expected);
    if (matcher) {
      const [, kind, name] = matcher;
      const ok =
        kind === 'any' ||
        (kind === 'int' && Number.isInteger(actual)) ||
        (kind === 'string' && typeof actual === 'string');
      if (!ok) return `${path}: expected ${kind}, got ${JSON.stringify(actual)}`;
      if (name) {
        if (name in vars && JSON.stringify(vars[name]) !== JSON.stringify(actual)) {
          return `${path}: expected ${name} = ${JSON.stringify(vars[name])}, got ${JSON.stringify(actual)}`;
        }
        vars[name] = actual;
      }
      return null;
    }
    const resolved = substitute(expected, vars);
    return JSON.stringify(resolved) === JSON.stringify(actual)
      ? null
      : `${path}: expected ${JSON.stringify(resolved)}, got ${JSON.stringify(actual)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return `${path}: expected an array of ${expected.length}, got ${JSON.stringify(actual)}`;
    }
    for (let i = 0; i < expected.length; i++) {
      const problem = match(expected[i], actual[i], vars, `${path}[${i}]`);
      if (problem) return problem;
    }
    return null;
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual))
      return `${path}: expected an object, got ${JSON.stringify(actual)}`;
    const keys = Object.keys(expected).sort();
    const actualKeys = Object.keys(actual).sort();
    if (JSON.stringify(keys) !== JSON.stringify(actualKeys)) return `${path}: expected keys ${keys}, got ${actualKeys}`;
    for (const key of keys) {
      const problem = match(
        (expected as Record<string, unknown>)[key],
        (actual as Record<string, unknown>)[key],
        vars,
        `${path}.${key}`,
      );
      if (problem) return problem;
    }
    return null;
  }
  return JSON.stringify(expected) === JSON.stringify(actual)
    ? null
    : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

/** A Socket.IO-over-Engine.IO text frame: packet-type digits (and ack id), then optional JSON. */
function splitFrame(frame: string): { head: string; json: unknown; hasJson: boolean } {
  const at = frame.search(/[[{]/);
  if (at < 0) return { head: frame, json: undefined, hasJson: false };
  return { head: frame.slice(0, at), json: JSON.parse(frame.slice(at)), hasJson: true };
}

/** Substitutes inside the parsed JSON, so `"${seq}"` becomes the number it is bound to, not a string. */
export function substituteFrame(frame: string, vars: Record<string, unknown>): string {
  const { head, json, hasJson } = splitFrame(frame);
  return hasJson ? `${head}${JSON.stringify(substitute(json, vars))}` : head;
}

export function matchFrame(expected: string, actual: string, vars: Record<string, unknown>): string | null {
  const e = splitFrame(expected);
  const a = splitFrame(actual);
  if (e.head !== a.head || e.hasJson !== a.hasJson)
    return `frame ${JSON.stringify(actual)} is not ${JSON.stringify(expected)}`;
  return e.hasJson ? match(e.json, a.json, vars) : null;
}

class FrameSocket {
  private readonly queue: string[] = [];
  private waiter: (() => void) | undefined;
  closed = false;

  constructor(
    readonly socket: WebSocket,
    private readonly log: (line: string) => void,
  ) {
    socket.on('message', (data) => {
      const frame = data.toString();
      this.log(`< ${frame}`);
      this.queue.push(frame);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  static open(url: string, log: (line: string) => void): Promise<FrameSocket> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const frames = new FrameSocket(ws, log);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(frames));
      ws.once('error', reject);
    });
  }

  send(frame: string): void {
    this.log(`> ${frame}`);
    this.socket.send(frame);
  }

  /** The next frame the trace is about; an Engine.IO ping it does not expect is answered and skipped. */
  async next(expectPing: boolean): Promise<string> {
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const frame = this.queue.shift();
      if (frame === '2' && !expectPing) {
        this.send('3');
        continue;
      }
      if (frame !== undefined) return frame;
      if (this.closed) throw new Error('the gateway closed the connection');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${TIMEOUT_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }
}

export async function replay(trace: Trace, endpoints: Endpoints): Promise<void> {
  const vars: Record<string, unknown> = { ...endpoints.variables };
  const log = endpoints.log ?? (() => undefined);
  let socket: FrameSocket | undefined;
  try {
    for (const [index, step] of trace.steps.entries()) {
      const where = `${trace.name} step ${index}${step.comment ? ` (${step.comment})` : ''}`;
      if ('ws' in step) {
        if (step.ws === 'open') socket = await FrameSocket.open(endpoints.gatewayUrl, log);
        else socket?.socket.close();
      } else if ('send' in step) {
        if (!socket) throw new Error(`${where}: send before ws open`);
        socket.send(substituteFrame(step.send, vars));
      } else if ('recv' in step) {
        if (!socket) throw new Error(`${where}: recv before ws open`);
        const frame = await socket.next(step.recv === '2');
        const problem = matchFrame(step.recv, frame, vars);
        if (problem) throw new Error(`${where}: ${problem}`);
      } else {
        await httpStep(step, endpoints, vars, where, log);
      }
    }
  } finally {
    socket?.socket.terminate();
  }
}

async function httpStep(
  step: HttpStep,
  endpoints: Endpoints,
  vars: Record<string, unknown>,
  where: string,
  log: (line: string) => void,
) {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const request = substitute(step.http, vars) as HttpStep['http'];
    const response = await fetch(`${endpoints.ingestUrl}${request.path}`, {
      method: request.method,
      headers: { ...(request.body === undefined ? {} : { 'content-type': 'application/json' }), ...request.headers },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
    });
    const text = await response.text();
    log(`HTTP ${request.method} ${request.path} ${JSON.stringify(request.body ?? null)} -> ${response.status} ${text}`);
    const body = text ? JSON.parse(text) : undefined;
    const attempt = { ...vars };
    const problem =
      (response.status === step.expect.status
        ? null
        : `status ${response.status}, expected ${step.expect.status}: ${text}`) ??
      Object.entries(step.expect.headers ?? {})
        .map(([name, pattern]) => match(pattern, response.headers.get(name), attempt, `header ${name}`))
        .find((p) => p) ??
      (step.expect.body === undefined ? null : match(step.expect.body, body, attempt));
    if (!problem) {
      Object.assign(vars, attempt);
      return;
    }
    if (!step.retryUntilMatch || Date.now() > deadline) throw new Error(`${where}: ${problem}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
