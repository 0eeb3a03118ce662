import { z } from 'zod';
import { ConfigValidationError } from './config-validation-error';
import { envField } from './env-field';
import { authEnv, commonEnv, databaseEnv, DEV_JWT_SECRET, kafkaEnv, resolveJwtSecret } from './env-groups';
import { loadConfigOrExit, parseEnv } from './parse-env';

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigValidationError');
}

describe('parseEnv', () => {
  const shape = { ...commonEnv, ...kafkaEnv, ...databaseEnv, ...authEnv, PORT: envField.port(3000) };

  it('applies every default when the environment is empty', () => {
    expect(parseEnv(shape, {})).toEqual({
      NODE_ENV: 'development',
      LOG_LEVEL: 'log',
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      KAFKA_CLIENT_ID: undefined,
      KAFKA_CLIENT: 'platformatic',
      SEQCAST_MESSAGES_TOPIC: 'seqcast.messages',
      SEQCAST_EVENTS_TOPIC: 'seqcast.events',
      SEQCAST_REPLICATION_FACTOR: 1,
      SEQCAST_PARTITIONS: 12,
      SEQCAST_MIN_INSYNC_REPLICAS: 1,
      KAFKA_SSL: false,
      KAFKA_SSL_CA_FILE: undefined,
      KAFKA_SSL_CERT_FILE: undefined,
      KAFKA_SSL_KEY_FILE: undefined,
      KAFKA_SSL_REJECT_UNAUTHORIZED: true,
      KAFKA_SASL_MECHANISM: undefined,
      KAFKA_SASL_USERNAME: undefined,
      KAFKA_SASL_PASSWORD: undefined,
      KAFKA_SASL_PASSWORD_FILE: undefined,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/seqcast',
      DATABASE_RUN_MIGRATIONS: true,
      DATABASE_SSL: 'disable',
      DATABASE_SSL_CA_FILE: undefined,
      SEQCAST_JWT_SECRET: undefined,
      SEQCAST_JWT_JWKS_URL: undefined,
      SEQCAST_JWT_PUBLIC_KEY_FILE: undefined,
      SEQCAST_JWT_ALGORITHMS: undefined,
      SEQCAST_JWT_ISSUER: undefined,
      SEQCAST_JWT_AUDIENCE: undefined,
      SEQCAST_JWT_CLOCK_TOLERANCE_S: 30,
      SEQCAST_AUTH_TOKEN_CACHE_SIZE: 10_000,
      PORT: 3000,
    });
  });

  it('treats a blank value as unset', () => {
    expect(parseEnv(shape, { PORT: '  ', KAFKA_BROKERS: '' })).toMatchObject({
      PORT: 3000,
      KAFKA_BROKERS: ['127.0.0.1:9092'],
    });
  });

  it('reads provided values', () => {
    const config = parseEnv(shape, {
      NODE_ENV: 'production',
      LOG_LEVEL: 'DEBUG',
      KAFKA_BROKERS: ' k1:9092 , k2:9092,',
      KAFKA_CLIENT_ID: 'ingest-1',
      SEQCAST_PARTITIONS: '3',
      DATABASE_URL: 'postgresql://u:p@db:5432/x',
      DATABASE_RUN_MIGRATIONS: 'no',
      PORT: '8080',
      UNRELATED: 'ignored',
    });
    expect(config).toMatchObject({
      NODE_ENV: 'production',
      LOG_LEVEL: 'debug',
      KAFKA_BROKERS: ['k1:9092', 'k2:9092'],
      KAFKA_CLIENT_ID: 'ingest-1',
      SEQCAST_PARTITIONS: 3,
      DATABASE_URL: 'postgresql://u:p@db:5432/x',
      DATABASE_RUN_MIGRATIONS: false,
      PORT: 8080,
    });
    expect(config).not.toHaveProperty('UNRELATED');
  });

  it('names every bad variable in one error', () => {
    const problems = problemsOf(() =>
      parseEnv(shape, {
        PORT: 'abc',
        NODE_ENV: 'prod',
        SEQCAST_PARTITIONS: '0',
        DATABASE_RUN_MIGRATIONS: 'maybe',
        DATABASE_URL: 'mysql://root:hunter2@db/x',
        KAFKA_BROKERS: ' , ',
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'PORT: must be an integer 1-65535 (got "abc")',
        'NODE_ENV: must be one of development, production, test (got "prod")',
        'SEQCAST_PARTITIONS: must be an integer 1-10000 (got "0")',
        'DATABASE_RUN_MIGRATIONS: must be one of true, false, 1, 0, yes, no (got "maybe")',
        'DATABASE_URL: must start with postgres:// or postgresql:// (got "mysql://***@db/x")',
        'KAFKA_BROKERS: must be a comma-separated list with at least one entry (got ",")',
      ]),
    );
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('reports a missing required variable of a caller-defined shape', () => {
    expect(problemsOf(() => parseEnv({ TOKEN: z.string() }, {}))).toEqual(['TOKEN: is required']);
  });
});

describe('envField', () => {
  const parseOne = <T>(schema: z.ZodType<T, z.ZodTypeDef, string | undefined>, raw: string | undefined) =>
    parseEnv({ X: schema }, { X: raw }).X;

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['No', false],
  ])('bool reads %s as %s', (raw, expected) => {
    expect(parseOne(envField.bool(!expected), raw)).toBe(expected);
  });

  it('int enforces integers and bounds', () => {
    const schema = envField.int({ default: 5, min: 1, max: 10 });
    expect(parseOne(schema, undefined)).toBe(5);
    expect(parseOne(schema, '10')).toBe(10);
    for (const bad of ['11', '0', '1.5', '1e3', 'ten', '0x5']) {
      expect(problemsOf(() => parseOne(schema, bad))).toEqual([`X: must be an integer 1-10 (got "${bad}")`]);
    }
    expect(problemsOf(() => parseOne(envField.int({ default: 1, min: 0 }), '-1'))).toEqual([
      'X: must be an integer >= 0 (got "-1")',
    ]);
  });

  it('string keeps the value, falls back to the default, or stays undefined', () => {
    expect(parseOne(envField.string('d'), 'value')).toBe('value');
    expect(parseOne(envField.string('d'), undefined)).toBe('d');
    expect(parseOne(envField.string(), undefined)).toBeUndefined();
  });

  it('clips a very long bad value in the error', () => {
    const [problem] = problemsOf(() => parseOne(envField.port(1), '9'.repeat(500)));
    expect(problem.length).toBeLessThan(120);
  });
});

describe('resolveJwtSecret', () => {
  it('requires a secret in production', () => {
    expect(problemsOf(() => resolveJwtSecret('production', undefined))).toEqual([
      'SEQCAST_JWT_SECRET: required when NODE_ENV=production',
    ]);
    expect(problemsOf(() => resolveJwtSecret('production', ''))).toEqual([
      'SEQCAST_JWT_SECRET: required when NODE_ENV=production',
    ]);
  });

  it('refuses the published development secret in production', () => {
    expect(() => resolveJwtSecret('production', DEV_JWT_SECRET)).toThrow(ConfigValidationError);
  });

  it('uses the provided secret, or the development one outside production', () => {
    expect(resolveJwtSecret('production', 's3cret')).toBe('s3cret');
    expect(resolveJwtSecret('development', 's3cret')).toBe('s3cret');
    expect(resolveJwtSecret('development', undefined)).toBe(DEV_JWT_SECRET);
    expect(resolveJwtSecret('test', undefined)).toBe(DEV_JWT_SECRET);
  });
});

describe('loadConfigOrExit', () => {
  it('prints every problem and exits 1 on a config error', () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      loadConfigOrExit('ingest-api', () =>
        parseEnv(
          { PORT: envField.port(1), N: envField.int({ default: 1 }) },
          {
            PORT: 'x',
            N: 'y',
          },
        ),
      );
      expect(exit).toHaveBeenCalledWith(1);
      expect(stderr).toHaveBeenCalledWith(
        'ingest-api: invalid configuration:\n  - PORT: must be an integer 1-65535 (got "x")\n  - N: must be an integer (got "y")\n',
      );
    } finally {
      exit.mockRestore();
      stderr.mockRestore();
    }
  });

  it('returns the config when valid and rethrows unrelated errors', () => {
    expect(loadConfigOrExit('svc', () => 42)).toBe(42);
    expect(() =>
      loadConfigOrExit('svc', () => {
        throw new TypeError('boom');
      }),
    ).toThrow('boom');
  });
});
