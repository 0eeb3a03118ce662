import { ConfigValidationError, DEV_JWT_SECRET } from '@seqcast/config';
import { loadGatewayConfig } from './config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadGatewayConfig(env, 'host-1');
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigValidationError');
}

describe('loadGatewayConfig', () => {
  it('has working defaults for local development', () => {
    expect(loadGatewayConfig({}, 'host-1')).toEqual({
      nodeEnv: 'development',
      logLevel: 'log',
      host: '0.0.0.0',
      port: 3001,
      listenBacklog: 511,
      auth: {
        keySource: { kind: 'secret', secret: DEV_JWT_SECRET },
        issuer: undefined,
        audience: undefined,
        clockToleranceSeconds: 30,
        tokenCacheSize: 10_000,
      },
      tokenRefreshLeadMs: 60_000,
      managementPort: 9001,
      instanceId: 'host-1',
      kafka: {
        brokers: ['127.0.0.1:9092'],
        clientId: 'seqcast-edge-gateway',
        client: 'platformatic',
        eventsTopic: 'seqcast.events',
        partitions: 12,
        replicationFactor: 1,
        minInsyncReplicas: 1,
        groupId: 'seqcast-gateway-host-1',
        groupTimeouts: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, rebalanceTimeoutMs: 30_000 },
      },
      database: { url: 'postgres://postgres@127.0.0.1:5432/seqcast', runMigrations: true, tls: { mode: 'disable' } },
      socket: { pingIntervalMs: 25_000, pingTimeoutMs: 20_000, allowedOrigins: ['*'] },
      limits: {
        connections: { maxPerPrincipal: 50, maxPerAddress: 1_000 },
        subscriptions: { maxPerSocket: 1_000, opsPerMinute: 3_000 },
        handshakes: { maxInFlight: 512 },
      },
      delivery: { ackTimeoutMs: 10_000, maxBacklogMessages: 5_000, maxBacklogBytes: 8 * 1024 * 1024 },
      roomCache: { messagesPerRoom: 1_000, maxBytes: 64 * 1024 * 1024 },
      sse: { heartbeatMs: 15_000, retryMs: 2_000, allowedOrigins: ['*'] },
      presence: {
        gatewayId: expect.stringMatching(/^host-1\.\d+\.[0-9a-z]+$/),
        ttlMs: 15_000,
        pollMs: 1_000,
        maxMembers: 100,
      },
      drain: { spreadMs: 10_000, timeoutMs: 30_000, graceMs: 1_000 },
      publish: { messagesTopic: 'seqcast.messages', maxPayloadBytes: 65_536, ratePerSec: 500 },
      shutdownTimeoutMs: 40_000,
    });
  });

  it('defaults the instance id to this host and process', () => {
    expect(loadGatewayConfig({}).instanceId).toMatch(new RegExp(`-${process.pid}$`));
  });

  it('reads every variable it documents', () => {
    const config = loadGatewayConfig({
      NODE_ENV: 'production',
      LOG_LEVEL: 'debug',
      HOST: '127.0.0.1',
      PORT: '8081',
      MANAGEMENT_PORT: '9100',
      SEQCAST_JWT_SECRET: 'prod-secret',
      SEQCAST_JWT_AUDIENCE: 'seqcast',
      GATEWAY_TOKEN_REFRESH_LEAD_MS: '30000',
      GATEWAY_INSTANCE_ID: 'gw-2',
      GATEWAY_PING_INTERVAL_MS: '10000',
      GATEWAY_PING_TIMEOUT_MS: '5000',
      SEQCAST_ALLOWED_ORIGINS: 'https://a.example, https://b.example',
      GATEWAY_MAX_CONNECTIONS_PER_PRINCIPAL: '5',
      GATEWAY_MAX_CONNECTIONS_PER_IP: '0',
      GATEWAY_CLIENT_IP_HEADER: 'X-Forwarded-For',
      GATEWAY_MAX_SUBSCRIPTIONS_PER_SOCKET: '20',
      GATEWAY_SUBSCRIBE_OPS_PER_MINUTE: '100',
      KAFKA_BROKERS: 'k1:9092,k2:9092',
      KAFKA_CLIENT_ID: 'gw',
      KAFKA_CLIENT: 'kafkajs',
      SEQCAST_EVENTS_TOPIC: 'ev',
      SEQCAST_PARTITIONS: '3',
      SEQCAST_REPLICATION_FACTOR: '3',
      SEQCAST_MIN_INSYNC_REPLICAS: '2',
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'seqcast',
      KAFKA_SASL_PASSWORD: 'pw',
      DATABASE_SSL: 'require',
      DATABASE_URL: 'postgresql://u:p@db:5432/s',
      DATABASE_RUN_MIGRATIONS: 'false',
      GATEWAY_ACK_TIMEOUT_MS: '2500',
      GATEWAY_MAX_BACKLOG_MESSAGES: '800',
      GATEWAY_MAX_BACKLOG_BYTES: '1048576',
      GATEWAY_ROOM_CACHE_MESSAGES: '0',
      GATEWAY_ROOM_CACHE_BYTES: '1000000',
      GATEWAY_SSE_HEARTBEAT_MS: '5000',
      GATEWAY_SSE_RETRY_MS: '500',
      GATEWAY_PRESENCE_TTL_MS: '6000',
      GATEWAY_PRESENCE_POLL_MS: '250',
      GATEWAY_PRESENCE_MAX_MEMBERS: '20',
      GATEWAY_DRAIN_SPREAD_MS: '0',
      GATEWAY_LISTEN_BACKLOG: '4096',
      GATEWAY_MAX_HANDSHAKES_IN_FLIGHT: '0',
      GATEWAY_DRAIN_TIMEOUT_MS: '5000',
      GATEWAY_SESSION_TIMEOUT_MS: '9000',
      GATEWAY_HEARTBEAT_INTERVAL_MS: '3000',
      GATEWAY_REBALANCE_TIMEOUT_MS: '20000',
      SEQCAST_MESSAGES_TOPIC: 'msgs',
      INGEST_MAX_BODY_BYTES: '2048',
      INGEST_PUBLISH_RATE_PER_SEC: '0',
      SEQCAST_REDIS_URL: 'redis://redis:6379',
    });
    expect(config).toEqual({
      nodeEnv: 'production',
      logLevel: 'debug',
      host: '127.0.0.1',
      port: 8081,
      listenBacklog: 4096,
      auth: {
        keySource: { kind: 'secret', secret: 'prod-secret' },
        issuer: undefined,
        audience: ['seqcast'],
        clockToleranceSeconds: 30,
        tokenCacheSize: 10_000,
      },
      tokenRefreshLeadMs: 30_000,
      managementPort: 9100,
      instanceId: 'gw-2',
      kafka: {
        brokers: ['k1:9092', 'k2:9092'],
        clientId: 'gw',
        client: 'kafkajs',
        eventsTopic: 'ev',
        partitions: 3,
        replicationFactor: 3,
        minInsyncReplicas: 2,
        ssl: { rejectUnauthorized: true },
        sasl: { mechanism: 'scram-sha-512', username: 'seqcast', password: 'pw' },
        groupId: 'seqcast-gateway-gw-2',
        groupTimeouts: { sessionTimeoutMs: 9_000, heartbeatIntervalMs: 3_000, rebalanceTimeoutMs: 20_000 },
      },
      database: { url: 'postgresql://u:p@db:5432/s', runMigrations: false, tls: { mode: 'require' } },
      socket: {
        pingIntervalMs: 10_000,
        pingTimeoutMs: 5_000,
        allowedOrigins: ['https://a.example', 'https://b.example'],
      },
      limits: {
        connections: { maxPerPrincipal: 5, maxPerAddress: 0, clientIpHeader: 'X-Forwarded-For' },
        subscriptions: { maxPerSocket: 20, opsPerMinute: 100 },
        handshakes: { maxInFlight: 0 },
      },
      delivery: { ackTimeoutMs: 2_500, maxBacklogMessages: 800, maxBacklogBytes: 1_048_576 },
      roomCache: { messagesPerRoom: 0, maxBytes: 1_000_000 },
      sse: { heartbeatMs: 5_000, retryMs: 500, allowedOrigins: ['https://a.example', 'https://b.example'] },
      presence: { gatewayId: expect.stringMatching(/^gw-2\./), ttlMs: 6_000, pollMs: 250, maxMembers: 20 },
      drain: { spreadMs: 0, timeoutMs: 5_000, graceMs: 1_000 },
      publish: { messagesTopic: 'msgs', maxPayloadBytes: 2_048, ratePerSec: 0, redisUrl: 'redis://redis:6379' },
      shutdownTimeoutMs: 15_000,
    });
  });

  it('reports every bad variable at once', () => {
    const problems = problemsOf({
      PORT: 'abc',
      GATEWAY_PING_INTERVAL_MS: '10',
      GATEWAY_INSTANCE_ID: 'has spaces',
      DATABASE_URL: 'mysql://x',
      GATEWAY_ACK_TIMEOUT_MS: '0',
      GATEWAY_MAX_BACKLOG_BYTES: '1k',
      GATEWAY_DRAIN_TIMEOUT_MS: '-1',
    });
    expect(problems).toHaveLength(7);
    expect(problems.join('\n')).toMatch(/^GATEWAY_ACK_TIMEOUT_MS: must be an integer 100-600000/m);
    expect(problems.join('\n')).toMatch(/^GATEWAY_MAX_BACKLOG_BYTES: must be an integer/m);
    expect(problems.join('\n')).toMatch(/^GATEWAY_DRAIN_TIMEOUT_MS: must be an integer 1000-600000/m);
    expect(problems.join('\n')).toMatch(/^PORT: .*"abc"/m);
    expect(problems.join('\n')).toMatch(/^GATEWAY_PING_INTERVAL_MS: must be an integer 1000-600000/m);
    expect(problems.join('\n')).toMatch(/^GATEWAY_INSTANCE_ID: must be 1-200 characters/m);
    expect(problems.join('\n')).toMatch(/^DATABASE_URL: /m);
  });

  it('requires the drain timeout to exceed the spread plus the disconnect grace', () => {
    expect(
      loadGatewayConfig({ GATEWAY_DRAIN_SPREAD_MS: '20000', GATEWAY_DRAIN_TIMEOUT_MS: '21001' }, 'h').drain,
    ).toEqual({
      spreadMs: 20_000,
      timeoutMs: 21_001,
      graceMs: 1_000,
    });
    expect(problemsOf({ GATEWAY_DRAIN_SPREAD_MS: '20000', GATEWAY_DRAIN_TIMEOUT_MS: '21000' })).toEqual([
      'GATEWAY_DRAIN_TIMEOUT_MS: must exceed GATEWAY_DRAIN_SPREAD_MS + 1000 ms disconnect grace (20000 + 1000 = 21000), ' +
        'got 21000: raise it or lower GATEWAY_DRAIN_SPREAD_MS',
    ]);
    // Against the default timeout (30 s) too.
    expect(problemsOf({ GATEWAY_DRAIN_SPREAD_MS: '45000' })).toEqual([
      expect.stringMatching(/^GATEWAY_DRAIN_TIMEOUT_MS: must exceed .*\(45000 \+ 1000 = 46000\), got 30000/),
    ]);
    // Reported together with every other bad variable.
    const problems = problemsOf({ PORT: 'abc', GATEWAY_DRAIN_SPREAD_MS: '5000', GATEWAY_DRAIN_TIMEOUT_MS: '2000' });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/^PORT: /m);
    expect(problems.join('\n')).toMatch(/^GATEWAY_DRAIN_TIMEOUT_MS: must exceed/m);
  });

  it('forces exit a margin after the drain timeout', () => {
    expect(loadGatewayConfig({ GATEWAY_DRAIN_TIMEOUT_MS: '60000' }, 'h').shutdownTimeoutMs).toBe(70_000);
  });

  it('refuses a heartbeat slower than a third of the session, or a rebalance timeout below it', () => {
    expect(problemsOf({ GATEWAY_SESSION_TIMEOUT_MS: '6000', GATEWAY_HEARTBEAT_INTERVAL_MS: '2500' })).toEqual([
      expect.stringMatching(/^GATEWAY_\*_TIMEOUT_MS\/INTERVAL_MS: heartbeat interval 2500 ms must be at most a third/),
    ]);
    expect(problemsOf({ GATEWAY_SESSION_TIMEOUT_MS: '10000', GATEWAY_REBALANCE_TIMEOUT_MS: '5000' })).toEqual([
      expect.stringMatching(/rebalance timeout 5000 ms must be at least the session timeout 10000 ms/),
    ]);
  });

  it('refuses to run production without a JWT secret', () => {
    expect(() => loadGatewayConfig({ NODE_ENV: 'production' }, 'h')).toThrow(ConfigValidationError);
  });
});
