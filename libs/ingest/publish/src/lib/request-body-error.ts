/**
 * Express' JSON parser reports failures as http-errors carrying a `type`. Nest turns the invalid
 * JSON one (a SyntaxError) into a generic BadRequestException before any filter sees it, losing the
 * `type`; the ingest HTTP setup re-wraps parser errors in this class so the filter can map them.
 */
export class RequestBodyError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
    /** The byte limit, for `entity.too.large`. */
    readonly limit?: number,
  ) {
    super(message);
    this.name = 'RequestBodyError';
  }

  /** Parser errors are the ones with a string `type` and an http status; anything else is not ours to wrap. */
  static from(error: unknown): RequestBodyError | undefined {
    if (error instanceof RequestBodyError) return error;
    if (typeof error !== 'object' || error === null) return undefined;
    const { type, status, statusCode, message, limit } = error as Record<string, unknown>;
    const code = typeof status === 'number' ? status : statusCode;
    if (typeof type !== 'string' || typeof code !== 'number') return undefined;
    return new RequestBodyError(
      type,
      code,
      typeof message === 'string' ? message : type,
      typeof limit === 'number' ? limit : undefined,
    );
  }

  /** A body-reading error with a 4xx status but no `type`: zlib refusing a body that is not what its Content-Encoding says. */
  static undecodable(error: unknown): RequestBodyError | undefined {
    if (!(error instanceof Error)) return undefined;
    const { status } = error as { status?: unknown };
    if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
    return new RequestBodyError(
      'encoding.invalid',
      400,
      `request body could not be decoded as its Content-Encoding says: ${error.message}`,
    );
  }
}
