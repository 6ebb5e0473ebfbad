/**
 * The kinds of failure ferry reports, and the exit codes (lib/contract.ts EXIT) they map to:
 *  - InputError: the image, the command line or the configuration is wrong (exit 2);
 *  - FatalError: a destination refused in a way no retry can fix: TLS or plain-HTTP
 *    refusal, an immutable tag at another digest, a challenge from a foreign host (exit 2);
 *  - PushError: a destination failed in a way a later attempt may fix (exit 1);
 *  - RetryableError: a PushError worth another attempt within this run.
 */

/** Bad input: missing file, not an image, missing layer, corrupt blob, bad reference, bad flag. */
export class InputError extends Error {
  override readonly name: string = 'InputError';
}

/** A destination refused or failed: auth refused, registry error, network gave up. */
export class PushError extends Error {
  override readonly name: string = 'PushError';
}

/** A destination failure that no retry can fix (exit 2), e.g. an immutable tag at another digest. */
export class FatalError extends PushError {
  override readonly name: string = 'FatalError';
}

/** A transient failure worth another attempt (connection reset, timeout, 5xx, 429, 408). */
export class RetryableError extends PushError {
  override readonly name: string = 'RetryableError';
  /** Seconds the server asked us to wait (Retry-After), if it said. */
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** True when no later attempt can succeed: the exit code is 2. */
export function isUnfixable(err: unknown): boolean {
  return err instanceof InputError || err instanceof FatalError;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Longest piece of registry-supplied text that reaches a message. */
export const MAX_REMOTE_TEXT = 300;

/**
 * Registry-supplied text (error messages, header values) on its way to a log line or
 * --json: control characters (newlines, terminal escapes) become spaces and the length
 * is capped, so a hostile registry cannot forge log lines or drive the terminal.
 */
export function sanitize(text: string, max = MAX_REMOTE_TEXT): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** `JSON.parse` whose failure is an InputError naming the document; `what` is e.g. "image.tar: index.json". */
export function parseJsonInput<T = unknown>(text: string | Buffer, what: string): T {
  try {
    return JSON.parse(text.toString()) as T;
  } catch (err) {
    throw new InputError(`${what} is not valid JSON (${errorMessage(err)})`);
  }
}
