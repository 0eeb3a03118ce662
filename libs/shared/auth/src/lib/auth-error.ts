/** An authentication failure; the message is safe to return to the client (it never echoes the token). */
export class AuthError extends Error {
  readonly code = 'unauthorized' as const;

  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}
