import { type DynamicModule, type FactoryProvider, Module, type ModuleMetadata } from '@nestjs/common';
import { ApiKeyAuthenticator, type ApiKeyStore, TokenVerifier, type TokenVerifierOptions } from '@seqcast/auth';

/** Default bound on how long a revoked API key keeps working on one instance. */
export const DEFAULT_API_KEY_CACHE_TTL_MS = 30_000;

export interface HttpAuthOptions {
  /** How bearer tokens are verified (SEQCAST_JWT_*): the resolved AuthSettings. */
  auth?: TokenVerifierOptions;
  /** Shorthand for an HS256 `auth` (development and tests); ignored when `auth` is given. */
  jwtSecret?: string;
  /** SEQCAST_API_KEY_CACHE_TTL_MS: how long an API key lookup is reused, i.e. how late a revocation bites. */
  apiKeyCacheTtlMs?: number;
  /** Modules exporting what the `apiKeys` factory injects. */
  imports?: ModuleMetadata['imports'];
  /** Where API keys are looked up (the host owns the database connection behind it). */
  apiKeys: { inject?: FactoryProvider['inject']; useFactory: (...deps: never[]) => ApiKeyStore | Promise<ApiKeyStore> };
}

/**
 * The credentials BearerAuthGuard checks, once per process: one TokenVerifier (with its
 * verified-token cache) and one ApiKeyAuthenticator (with its key cache). A host registers this
 * module once and passes the same module to every HTTP capability it mounts (publish, history),
 * so a token verified or a key looked up for one route is not verified or looked up again for
 * another, and every route sees a revocation at the same moment.
 */
@Module({})
export class HttpAuthModule {
  static register(options: HttpAuthOptions): DynamicModule {
    return {
      module: HttpAuthModule,
      imports: options.imports ?? [],
      providers: [
        { provide: TokenVerifier, useValue: tokenVerifierFor(options) },
        {
          provide: ApiKeyAuthenticator,
          inject: options.apiKeys.inject ?? [],
          useFactory: async (...deps: never[]) =>
            new ApiKeyAuthenticator(await options.apiKeys.useFactory(...deps), {
              cacheTtlMs: options.apiKeyCacheTtlMs ?? DEFAULT_API_KEY_CACHE_TTL_MS,
            }),
        },
      ],
      exports: [TokenVerifier, ApiKeyAuthenticator],
    };
  }
}

function tokenVerifierFor(options: HttpAuthOptions): TokenVerifier {
  if (options.auth) return new TokenVerifier(options.auth);
  if (options.jwtSecret) return TokenVerifier.withSecret(options.jwtSecret);
  throw new Error('HttpAuthModule needs `auth` or `jwtSecret`');
}
