/**
 * Every wait of `ferry push` has a deadline. One overall deadline per destination
 * (`--timeout`, env FERRY_TIMEOUT), and per request: connecting (TCP + TLS), the first
 * byte of the answer, and a minimum throughput while bytes flow, so that a trickle is a
 * stall. Request deadlines scale with the overall one, so a short --timeout also makes
 * a stalled request fail early enough to be retried within it.
 */
import { setMaxListeners } from 'node:events';

export interface RequestTimeouts {
  /** TCP connect plus TLS handshake. */
  readonly connectMs: number;
  /** From the last byte sent to the first byte of the answer's headers. */
  readonly firstByteMs: number;
  /** While a body flows (either way), at least `minBytesPerSecond` must move in every window this long. */
  readonly stallWindowMs: number;
  readonly minBytesPerSecond: number;
}

/** A registry finalising a large blob on the last PUT may take a while: this much extra per byte. */
export const FINALIZE_BYTES_PER_SECOND = 10_000_000;

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** Request deadlines for an overall deadline of `timeoutSeconds`. */
export function requestTimeouts(timeoutSeconds: number): RequestTimeouts {
  const ms = timeoutSeconds * 1000;
  return {
    connectMs: clamp(ms / 40, 1000, 10_000),
    firstByteMs: clamp(ms / 20, 2000, 30_000),
    stallWindowMs: clamp(ms / 20, 2000, 15_000),
    minBytesPerSecond: 1024,
  };
}

/** Time-to-first-byte for the PUT that completes a blob upload of `size` bytes. */
export function finalizeTimeoutMs(timeouts: RequestTimeouts, size: number): number {
  return timeouts.firstByteMs + Math.ceil((size / FINALIZE_BYTES_PER_SECOND) * 1000);
}

/** Raised when a destination's overall deadline passes. Not retryable: the time is gone. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

/** The overall deadline of one destination: an abort signal for requests in flight, and the time left for retries. */
export class Deadline {
  readonly at: number;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly seconds: number,
    now = Date.now(),
  ) {
    this.at = now + seconds * 1000;
    this.timer = setTimeout(() => this.controller.abort(new DeadlineError(`gave up after --timeout ${seconds}s`)), this.at - now);
    this.timer.unref();
    // Every request and retry wait in flight listens for the abort: no listener limit.
    setMaxListeners(0, this.controller.signal);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  remainingMs(): number {
    return this.at - Date.now();
  }

  /** Throws the DeadlineError once the deadline has passed. */
  check(): void {
    if (this.signal.aborted) throw this.signal.reason;
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

/**
 * Settles with `work`, or rejects with the deadline's error once it passes, even if a
 * step ignores the abort signal; work left behind is torn down with the transport.
 */
export function withinDeadline<T>(work: Promise<T>, deadline?: Deadline): Promise<T> {
  if (!deadline) return work;
  const { signal } = deadline;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    }),
  ]);
}
