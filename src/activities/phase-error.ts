/**
 * A phase failure with a type the caller can act on; `retryable: false` where trying again cannot help.
 */
export class PhaseExecutionError extends Error {
  constructor(
    message: string,
    readonly type: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'PhaseExecutionError';
  }
}
