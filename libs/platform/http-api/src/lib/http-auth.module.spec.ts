import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ApiKeyAuthenticator, type ApiKeyStore, signToken, TokenVerifier } from '@seqcast/auth';
import { BearerAuthGuard } from './bearer-auth.guard';
import { HttpAuthModule } from './http-auth.module';

const SECRET = 'http-auth-module-spec-secret-0123456789';

/** Two capabilities mounted by one host, as ingest-api mounts publishing and history. */
async function hostWithTwoCapabilities(store: ApiKeyStore) {
  const authentication = HttpAuthModule.register({ jwtSecret: SECRET, apiKeys: { useFactory: () => store } });
  @Module({ imports: [authentication], providers: [BearerAuthGuard], exports: [BearerAuthGuard] })
  class PublishLike {}
  @Module({ imports: [authentication], providers: [BearerAuthGuard], exports: [BearerAuthGuard] })
  class HistoryLike {}
  const host = await Test.createTestingModule({ imports: [PublishLike, HistoryLike] }).compile();
  return {
    publish: host.select(PublishLike),
    history: host.select(HistoryLike),
  };
}

describe('HttpAuthModule', () => {
  it('gives every capability of a host the same verifier and API-key authenticator', async () => {
    const { publish, history } = await hostWithTwoCapabilities({ findByHash: async () => undefined });
    expect(publish.get(TokenVerifier)).toBe(history.get(TokenVerifier));
    expect(publish.get(ApiKeyAuthenticator)).toBe(history.get(ApiKeyAuthenticator));
  });

  it('verifies tokens signed with the configured secret', async () => {
    const { history } = await hostWithTwoCapabilities({ findByHash: async () => undefined });
    const token = signToken({ sub: 'user-1', rooms: ['*'] }, SECRET);
    await expect(history.get(TokenVerifier).verify(token)).resolves.toMatchObject({ userId: 'user-1' });
  });

  it('refuses to start without a way to verify tokens', () => {
    expect(() =>
      HttpAuthModule.register({ apiKeys: { useFactory: () => ({ findByHash: async () => undefined }) } }),
    ).toThrow(/needs `auth` or `jwtSecret`/);
  });
});
