import { type CanActivate, createParamDecorator, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ApiKeyAuthenticator, AuthError, bearerToken, type Principal, TokenVerifier } from '@seqcast/auth';

/** The header backend services send their API key in (docs/protocol.md "Authentication"). */
export const API_KEY_HEADER = 'x-api-key';

export interface AuthenticatedRequest {
  headers: { authorization?: string; [API_KEY_HEADER]?: string | string[] };
  principal?: Principal;
}

/**
 * Authenticates every request of the controllers it guards, from `Authorization: Bearer <jwt>`
 * or `X-Api-Key: <key>`, and leaves the Principal on the request. It only answers "who": which
 * rooms the caller may touch is decided after the request is validated, so a malformed request is
 * a 400 whoever sends it.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
    @Inject(ApiKeyAuthenticator) private readonly apiKeys: ApiKeyAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const { authorization, [API_KEY_HEADER]: apiKey } = request.headers;
    // Both would leave it unclear whose rights apply; refuse rather than pick one silently.
    if (authorization !== undefined && apiKey !== undefined) {
      throw new AuthError('send either Authorization or X-Api-Key, not both');
    }
    // Each throws AuthError (missing, expired, forged, revoked, malformed): the error filter answers 401.
    request.principal =
      apiKey !== undefined
        ? await this.apiKeys.authenticate(typeof apiKey === 'string' ? apiKey.trim() : undefined)
        : await this.verifier.verify(bearerToken(authorization));
    return true;
  }
}

/** The caller BearerAuthGuard authenticated; only valid on guarded handlers. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a handler that BearerAuthGuard does not guard');
  return principal;
});
