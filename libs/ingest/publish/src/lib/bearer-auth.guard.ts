import { type CanActivate, createParamDecorator, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { bearerToken, type Principal, TokenVerifier } from '@seqcast/auth';

export interface AuthenticatedRequest {
  headers: { authorization?: string };
  principal?: Principal;
}

/**
 * Authenticates every request of the controllers it guards from `Authorization: Bearer <jwt>` and
 * leaves the Principal on the request. It only answers "who": which rooms the caller may touch is
 * decided after the request is validated, so a malformed request is a 400 whoever sends it.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(@Inject(TokenVerifier) private readonly verifier: TokenVerifier) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    // Throws AuthError (missing, expired, forged, malformed) which the error filter answers with 401.
    request.principal = this.verifier.verify(bearerToken(request.headers.authorization));
    return true;
  }
}

/** The caller BearerAuthGuard authenticated; only valid on guarded handlers. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a handler that BearerAuthGuard does not guard');
  return principal;
});
