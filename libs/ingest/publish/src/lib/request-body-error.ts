/**
 * A request body the ingest API refuses, with body-parser's `type` names (kept from the Express
 * days: the access log and the filter's mapping speak them). The body reader (json-body-reader.ts)
 * and its guards raise these; HttpErrorFilter maps each `type` to a status and message.
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
}
