// Errors about the data (corrupt, truncated, unsupported files...) carry a stable code; errors about the
// arguments are plain TypeError/RangeError, as in Node's own APIs.

export type TezipErrorCode =
  | 'TEZ_BAD_MAGIC'
  | 'TEZ_CORRUPT'
  | 'TEZ_TRUNCATED'
  | 'TEZ_UNSUPPORTED'
  | 'TEZ_TOO_LARGE'
  | 'TEZ_CHECKSUM'
  | 'TEZ_INVALID_ARGUMENT'
  | 'TEZ_INTERNAL'
  | 'TEZ_MODEL';

export class TezipError extends Error {
  readonly code: TezipErrorCode;

  constructor(code: TezipErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TezipError';
    this.code = code;
  }
}

const KNOWN = new Set<string>([
  'TEZ_BAD_MAGIC',
  'TEZ_CORRUPT',
  'TEZ_TRUNCATED',
  'TEZ_UNSUPPORTED',
  'TEZ_TOO_LARGE',
  'TEZ_CHECKSUM',
  'TEZ_INVALID_ARGUMENT',
  'TEZ_INTERNAL',
  'TEZ_MODEL',
]);

/** Turns an error thrown by the native core into a TezipError, with `context` in front of its message. */
export function fromNative(err: unknown, context?: string): Error {
  if (err instanceof TezipError) return err;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && KNOWN.has(code)) {
      return new TezipError(code as TezipErrorCode, context ? `${context}: ${err.message}` : err.message, {
        cause: err,
      });
    }
    return err;
  }
  return new TezipError('TEZ_INTERNAL', String(err));
}

/** sharp's trick: errors from work done off the main thread get the caller's stack appended. */
export function withCallerStack<T>(promise: Promise<T>, caller: { stack?: string }): Promise<T> {
  return promise.catch((err: unknown) => {
    if (err instanceof Error && caller.stack) {
      const frames = caller.stack.split('\n').slice(1).join('\n');
      err.stack = `${err.name}: ${err.message}\n${frames}`;
    }
    throw err;
  });
}
