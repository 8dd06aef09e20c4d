/**
 * What can go wrong with a store, each named so that callers (and later `baton doctor` and the
 * failure types) can tell them apart without reading messages. A message says what happened, to
 * which object in which store, then what to do about it.
 */

export type StoreProblem =
  /** BATON_STORE (or the location given) is not a directory or an s3:// URL, or S3 settings are missing. */
  | 'invalid-location'
  /** A key or hash that is not of the form the store takes. */
  | 'invalid-key'
  /** The service cannot be reached: refused, unknown host, timed out. */
  | 'unreachable'
  /** No credentials were found by the SDK's chain. */
  | 'no-credentials'
  /** The credentials were refused, or do not allow the operation; or the directory is not writable. */
  | 'denied'
  /** The bucket does not exist. */
  | 'no-bucket'
  /** No object by that key. */
  | 'missing'
  /** A content-addressed object whose bytes do not have its hash: refused. */
  | 'wrong-hash'
  /** A file that changed while it was being stored. */
  | 'changed'
  /** A key that a filesystem cannot hold beside another (`a` and `a/b`). */
  | 'conflict'
  /** A local file (the source of a put) that cannot be read. */
  | 'local-file'
  /** Anything else the service or filesystem answered. */
  | 'failed';

export class StoreError extends Error {
  override name = 'StoreError';
  /** What happened, to which object in which store (the message's start). */
  readonly what: string;
  /** What to do about it (also the end of the message). */
  readonly fix: string;
  readonly key: string | undefined;

  constructor(
    readonly problem: StoreProblem,
    what: string,
    fix: string,
    options: { key?: string; cause?: unknown } = {},
  ) {
    super(`${what}; ${fix}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.what = what;
    this.fix = fix;
    this.key = options.key;
  }
}

export function isStoreError(err: unknown, problem?: StoreProblem): err is StoreError {
  return err instanceof StoreError && (problem === undefined || err.problem === problem);
}
