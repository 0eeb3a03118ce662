import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envGroup, envShapeOf, forcedExitMsOf } from '@seqcast/config';
import { findManifestPath, loadServiceManifest, manifestProblems, parseServiceManifest } from './service-manifest';

const workspaceRoot = join(__dirname, '../../../../..');
const manifest = loadServiceManifest(join(workspaceRoot, 'services.json'));

const valid = {
  services: {
    'presence-api': {
      description: 'who is online',
      project: 'presence-api',
      kind: 'http',
      port: 3004,
      managementPort: 9004,
      public: true,
      probes: { startup: '/healthz', liveness: '/healthz', readiness: '/readyz' },
      metricsPath: '/metrics',
      envGroups: ['common', 'presence-api'],
      shutdownTimeoutEnv: 'PRESENCE_API_SHUTDOWN_TIMEOUT_MS',
    },
  },
};

describe('services.json', () => {
  it('lists the three services Seqcast is made of (and any added since)', () => {
    expect(Object.keys(manifest.services).slice(0, 3)).toEqual(['ingest-api', 'ordering-worker', 'edge-gateway']);
  });

  describe.each(Object.entries(manifest.services))('%s', (name, service) => {
    const shape = envShapeOf(service.envGroups);

    it('ends its env groups with its own, which owns the shutdown deadline', () => {
      expect(service.envGroups.at(-1)).toBe(name);
      expect(envGroup(name).forcedExitMs).toBeDefined();
      expect(forcedExitMsOf(service.envGroups, {})).toBeGreaterThan(0);
    });

    it('has the ports its configuration defaults to', () => {
      expect(shape['PORT']?.parse(undefined)).toBe(service.port);
      expect(shape['MANAGEMENT_PORT']?.parse(undefined)).toBe(service.managementPort);
    });

    it('names a shutdown variable its configuration reads', () => {
      expect(Object.keys(shape)).toContain(service.shutdownTimeoutEnv);
    });
  });

  it('is found from any directory below the workspace root', () => {
    expect(findManifestPath(join(workspaceRoot, 'libs/shared'))).toBe(join(workspaceRoot, 'services.json'));
  });
});

describe('parseServiceManifest', () => {
  it('accepts a minimal valid manifest', () => {
    expect(parseServiceManifest(valid).services['presence-api'].kind).toBe('http');
  });

  it('names every problem: bad name, kind, port, unknown field', () => {
    const service = valid.services['presence-api'];
    expect(
      manifestProblems({
        services: { Presence: { ...service, kind: 'cron', port: 80, extra: true } },
      }),
    ).toEqual([
      'services.Presence: must be kebab-case',
      expect.stringMatching(/^services\.Presence\.kind: Invalid enum value/),
      'services.Presence.port: Number must be greater than or equal to 1024',
      "services.Presence: Unrecognized key(s) in object: 'extra'",
    ]);
  });

  it('takes node flags for the image, and nothing a shell or env file could misread', () => {
    const withFlags = (nodeOptions: string) => ({
      services: { 'presence-api': { ...valid.services['presence-api'], nodeOptions } },
    });
    expect(manifestProblems(withFlags('--max-semi-space-size=8'))).toEqual([]);
    expect(manifestProblems(withFlags('--max-semi-space-size=8 --max-old-space-size=512'))).toEqual([]);
    for (const bad of ['max-semi-space-size=8', '--x=1; rm -rf /', '--a=1\nSECRET=x', '']) {
      expect(manifestProblems(withFlags(bad))).toEqual([
        'services.presence-api.nodeOptions: must be node flags (--name or --name=value, space-separated)',
      ]);
    }
  });

  it('refuses two services on one port', () => {
    const service = valid.services['presence-api'];
    expect(
      manifestProblems({ services: { a: service, b: { ...service, managementPort: 9005 } } }),
    ).toEqual(["services.b.port: 3004 is already a.port's"]);
  });

  it('reads a file and says which one is invalid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'service-manifest-'));
    writeFileSync(join(dir, 'services.json'), JSON.stringify({ services: { a: {} } }));
    expect(() => loadServiceManifest(join(dir, 'services.json'))).toThrow(/services\.json is invalid:\n {2}- services\.a\.description/);
  });
});
