/**
 * docker/compose.yaml and docker/Dockerfile kept in step with the services and the local scripts:
 * env names the apps read (and values they accept), the ports they listen on, the default topics,
 * and the image conventions the issue asks for. No Docker engine runs here, so these are read, not
 * run; tools/container/check.sh runs the image's build and install steps for real.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { workspaceRoot } from './support/rendered-chart';
import {
  MANIFEST,
  SERVICES,
  defaultPort,
  effectiveEnv,
  forcedExitMs,
  ownEnvNames,
  startupProblems,
  unknownEnvNames,
} from './support/services';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  environment?: Record<string, string | number>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
}

const compose = parse(readFileSync(join(workspaceRoot, 'docker/compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const dockerfile = readFileSync(join(workspaceRoot, 'docker/Dockerfile'), 'utf8');

/** Compose's `${VAR:-default}` / `${VAR-default}` / `${VAR}` as `docker compose up` sees them with VAR unset. */
function interpolate(value: string): string {
  return value.replace(
    /\$\{([A-Z_][A-Z0-9_]*)(:?-([^}]*))?\}/g,
    (_m, _name: string, _op: string, fallback: string | undefined) => fallback ?? '',
  );
}

describe('docker/compose.yaml', () => {
  it('runs Kafka from the official image and PostgreSQL, both with health checks', () => {
    expect(compose.services['kafka'].image).toMatch(/^apache\/kafka:\d+\.\d+\.\d+$/);
    expect(compose.services['postgres'].image).toMatch(/^postgres:/);
    for (const name of ['kafka', 'postgres'])
      expect(compose.services[name].healthcheck?.test.length).toBeGreaterThan(0);
  });

  it('runs exactly the services in services.json, besides Kafka and PostgreSQL', () => {
    const apps = Object.keys(compose.services).filter((name) => !['kafka', 'postgres'].includes(name));
    expect(apps.sort()).toEqual(SERVICES.map((s) => s.name).sort());
  });

  describe.each(SERVICES.map((s) => [s.name, s] as const))('%s', (name, spec) => {
    const svc = compose.services[name];
    const env = Object.fromEntries(Object.entries(svc?.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));

    it('is built from docker/Dockerfile with its SERVICE and PORT', () => {
      expect(svc.build).toEqual({
        context: '..',
        dockerfile: 'docker/Dockerfile',
        args: { SERVICE: name, PORT: String(defaultPort(spec)) },
      });
    });

    it('publishes the port the service listens on (as the local scripts do)', () => {
      expect(env['PORT']).toBe(String(defaultPort(spec)));
      expect(svc.ports).toEqual([`${defaultPort(spec)}:${defaultPort(spec)}`]);
    });

    it('sets only env vars the app reads, with values it accepts', () => {
      expect(unknownEnvNames(spec, env)).toEqual([]);
      expect(startupProblems(spec, env)).toEqual([]);
    });

    it("spells out each of the service's own settings, at the service's default", () => {
      const names = ownEnvNames(spec).filter((k) => effectiveEnv(spec, {}, k) !== undefined);
      expect(names.filter((k) => !(k in env))).toEqual([]);
      expect(names.map((k) => ({ k, v: effectiveEnv(spec, env, k) }))).toEqual(
        names.map((k) => ({ k, v: effectiveEnv(spec, {}, k) })),
      );
    });

    it(`gives it longer to stop than its forced-exit deadline (from ${spec.shutdownTimeoutEnv})`, () => {
      const graceS = Number(/^(\d+)s$/.exec(svc.stop_grace_period ?? '')?.[1]);
      expect(graceS).toBeGreaterThan(Math.ceil(forcedExitMs(spec, env) / 1000));
    });

    it('uses the default topics, and waits for healthy Kafka and PostgreSQL', () => {
      expect(env['SEQCAST_MESSAGES_TOPIC']).toBe(spec.envShape['SEQCAST_MESSAGES_TOPIC'].parse(undefined));
      expect(env['SEQCAST_EVENTS_TOPIC']).toBe(spec.envShape['SEQCAST_EVENTS_TOPIC'].parse(undefined));
      expect(svc.depends_on).toEqual({
        kafka: { condition: 'service_healthy' },
        postgres: { condition: 'service_healthy' },
      });
    });
  });
});

describe('docker/Dockerfile', () => {
  const stages = dockerfile.split('\n').filter((line) => /^FROM /.test(line));

  it('builds from a Node LTS slim image pinned to an exact release', () => {
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(base).toMatch(/^node:(22|24)\.\d+\.\d+-(bookworm|trixie)-slim$/);
    expect(stages.every((line) => line.startsWith('FROM ${NODE_IMAGE}'))).toBe(true);
  });

  it('ships the Node.js major that CI and the dev scripts run on', () => {
    const image = /^ARG NODE_IMAGE=node:(\d+)\./m.exec(dockerfile)?.[1];
    const runtime = readFileSync(join(workspaceRoot, 'tools/dev/node-runtime.sh'), 'utf8');
    const pinned = /SEQCAST_NODE_VERSION:-(\d+)\./.exec(runtime)?.[1];
    expect(pinned).toBeDefined();
    expect(image).toBe(pinned);
  });

  it('installs production dependencies with the script the container check runs', () => {
    expect(dockerfile).toContain('npm ci');
    expect(dockerfile).toMatch(/npx nx build "\$SERVICE"/);
    expect(dockerfile).toContain('sh tools/container/install-runtime-deps.sh /out/app package-lock.json');
    expect(readFileSync(join(workspaceRoot, 'tools/container/check.sh'), 'utf8')).toContain('install-runtime-deps.sh');
  });

  it('runs as the unprivileged node user under tini, with a /healthz HEALTHCHECK', () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/apt-get install -y --no-install-recommends tini/);
    expect(runtime).toContain('ENTRYPOINT ["/usr/bin/tini", "--"]');
    expect(runtime).toContain('CMD ["node", "--env-file-if-exists=node.env", "main.js"]');
    expect(runtime).toMatch(/HEALTHCHECK [\s\S]*\/healthz/);
  });

  it('accepts exactly the SERVICE/PORT pairs the services listen on (checked against services.json)', () => {
    expect(dockerfile).toContain('RUN node tools/container/service-arg.cjs "${SERVICE:-}" "${PORT:-}"');
    const accepts = (service: string, port: string) =>
      spawnSync(process.execPath, [join(workspaceRoot, 'tools/container/service-arg.cjs'), service, port]).status === 0;
    for (const spec of SERVICES) {
      expect(accepts(spec.name, String(defaultPort(spec)))).toBe(true);
      expect(accepts(spec.name, String(defaultPort(spec) + 1))).toBe(false);
    }
    expect(accepts('no-such-service', '3000')).toBe(false);
    expect(accepts('', '')).toBe(false);
  });

  it("gives each service services.json's node flags through node.env, which node applies and NODE_OPTIONS overrides", () => {
    expect(dockerfile).toContain('node tools/container/node-env.cjs "$SERVICE" /out/app/node.env');
    expect(dockerfile).not.toMatch(/^\s*NODE_OPTIONS=/m);
    const dir = mkdtempSync(join(tmpdir(), 'node-env-'));
    // The young generation's size after an allocation burst that survives scavenges: V8 grows it to
    // 64 MiB by default, to twice the semi-space cap with --max-semi-space-size.
    const burst = `const ring = new Array(300000); let max = 0;
      for (let i = 0; i < 4e6; i++) { ring[i % ring.length] = { i }; if (i % 50000 === 0)
        max = Math.max(max, require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size); }
      process.stdout.write(String(max / 1048576));`;
    const youngMiB = (envFile: string, env: Record<string, string> = {}) => {
      const run = spawnSync(process.execPath, [`--env-file-if-exists=${envFile}`, '-e', burst], {
        env: { PATH: process.env['PATH'] ?? '', ...env },
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      return Number(run.stdout);
    };
    for (const spec of SERVICES) {
      const file = join(dir, `${spec.name}.env`);
      expect(spawnSync(process.execPath, [join(workspaceRoot, 'tools/container/node-env.cjs'), spec.name, file]).status).toBe(0);
      const flags = MANIFEST.services[spec.name]?.nodeOptions;
      const written = readFileSync(file, 'utf8');
      if (flags) expect(written).toContain(`\nNODE_OPTIONS=${flags}\n`);
      else expect(written).not.toContain('NODE_OPTIONS');
    }
    expect(MANIFEST.services['edge-gateway']?.nodeOptions).toBe('--max-semi-space-size=8');
    expect(youngMiB(join(dir, 'edge-gateway.env'))).toBeLessThanOrEqual(16);
    expect(youngMiB(join(dir, 'ingest-api.env'))).toBeGreaterThan(16);
    expect(youngMiB(join(dir, 'edge-gateway.env'), { NODE_OPTIONS: '--max-semi-space-size=32' })).toBeGreaterThan(16);
    expect(spawnSync(process.execPath, [join(workspaceRoot, 'tools/container/node-env.cjs'), 'no-such-service', join(dir, 'x')]).status).toBe(1);
  });

  it('keeps local state and secrets out of the build context', () => {
    const ignored = readFileSync(join(workspaceRoot, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['**/node_modules', 'dist', '.git', '.env', '.local']) expect(ignored).toContain(entry);
  });
});
