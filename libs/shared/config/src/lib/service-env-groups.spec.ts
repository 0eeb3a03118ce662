import { ConfigValidationError } from './config-validation-error';
import { ENV_GROUPS, envProblemsOf, envShapeOf, forcedExitMsOf } from './service-env-groups';

const gateway = ['common', 'kafka', 'database', 'auth', 'origins', 'edge-gateway'];

describe('env groups', () => {
  it('compose a service’s variables from the groups it names', () => {
    const shape = envShapeOf(['common', 'ingest-api']);
    expect(Object.keys(shape)).toEqual([...Object.keys(ENV_GROUPS['common'].shape), ...Object.keys(ENV_GROUPS['ingest-api'].shape)]);
    expect(() => envShapeOf(['common', 'no-such-group'])).toThrow(/unknown env group "no-such-group"/);
  });

  it('report every bad variable and every broken rule between variables, as the service would', () => {
    expect(envProblemsOf(gateway, {})).toEqual([]);
    expect(
      envProblemsOf(gateway, {
        PORT: 'x',
        NODE_ENV: 'production',
        GATEWAY_DRAIN_SPREAD_MS: '29000',
        GATEWAY_DRAIN_TIMEOUT_MS: '30000',
      }),
    ).toEqual([
      'PORT: must be an integer 1-65535 (got "x")',
      'SEQCAST_JWT_SECRET | SEQCAST_JWT_JWKS_URL | SEQCAST_JWT_PUBLIC_KEY_FILE: one key source is required when NODE_ENV=production',
      expect.stringContaining('GATEWAY_DRAIN_TIMEOUT_MS: must exceed GATEWAY_DRAIN_SPREAD_MS + 1000 ms'),
    ]);
    expect(envProblemsOf(['common', 'kafka', 'database', 'ordering-worker'], { WORKER_HEARTBEAT_INTERVAL_MS: '5000' })).toEqual([
      expect.stringMatching(/^WORKER_\*_TIMEOUT_MS\/INTERVAL_MS: heartbeat interval 5000 ms must be at most a third/),
    ]);
  });

  it('derive the forced-exit deadline from the service’s own group', () => {
    expect(forcedExitMsOf(['common', 'ingest-api'], { INGEST_SHUTDOWN_TIMEOUT_MS: '12000' })).toBe(12_000);
    expect(forcedExitMsOf(gateway, { GATEWAY_DRAIN_TIMEOUT_MS: '40000' })).toBe(50_000);
    expect(() => forcedExitMsOf(['common', 'ingest-api'], { INGEST_SHUTDOWN_TIMEOUT_MS: '5' })).toThrow(ConfigValidationError);
    expect(() => forcedExitMsOf(['common', 'kafka'], {})).toThrow(/must own the shutdown deadline/);
  });
});
