/**
 * The two kinds of failure `ferry push` reports. The CLI maps them to exit codes:
 * an InputError means the image or the command line is wrong (exit 2), a PushError
 * means a destination could not take the image (exit 1).
 */

/** `ferry push` exit codes: scripts and the Argo retry policy rely on them. */
export const EXIT = {
  /** Every destination holds the image. */
  ok: 0,
  /** Some destination failed; the others completed. */
  destinationFailed: 1,
  /** Bad input or usage: retrying cannot help. */
  badInput: 2,
} as const;

/** Bad input: missing file, not an image, missing layer, corrupt blob, bad reference. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** A destination refused or failed: auth refused, registry error, network gave up. */
export class PushError extends Error {
  override readonly name = 'PushError';
}

/** A transient failure worth another attempt (connection reset, 5xx, 429, 408). */
export class RetryableError extends PushError {
  /** Seconds the server asked us to wait (Retry-After), if it said. */
  constructor(message: string, readonly retryAfterSeconds?: number) {
    super(message);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
