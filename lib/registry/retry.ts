/**
 * The one retry policy of `ferry push` (documented in docs/push-reliability.md).
 *
 * Retried: connection errors (reset, refused, EOF, timeouts of one request) and answers
 * 408, 429 and 5xx, nothing else. Each operation has ONE budget of `--retries` extra
 * attempts, shared by every request of the operation: a blob upload (POST, PATCH, PUT)
 * spends from one budget whichever request failed, and nothing retries inside a retry.
 * Waits grow exponentially with jitter; Retry-After may lengthen a wait (up to a cap),
 * never shorten it; the total waiting per operation is capped, and no wait runs past the
 * destination's deadline.
 */
import { sleep } from '../common/concurrency';
import { RetryableError } from '../common/errors';
import type { Deadline } from './deadlines';

export interface RetryPolicy {
  /** Extra attempts per operation. */
  readonly retries: number;
  /** First wait; later ones double (1 s, 2 s, 4 s ...). */
  readonly baseMs: number;
  /** Longest single wait from backoff. */
  readonly maxDelayMs: number;
  /** Longest wait a Retry-After header can ask for. */
  readonly maxRetryAfterMs: number;
  /** Most time one operation spends waiting between attempts. */
  readonly maxTotalMs: number;
}

export const DEFAULT_RETRY_POLICY: Omit<RetryPolicy, 'retries'> = {
  baseMs: 1000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 60_000,
  maxTotalMs: 300_000,
};

/** The wait before retry number `attempt + 1`: backoff·(50–100 % jitter), lengthened (never shortened) by Retry-After. */
export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfterSeconds?: number, random = Math.random): number {
  const backoff = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** attempt) * (0.5 + random() / 2);
  const asked = retryAfterSeconds === undefined ? 0 : Math.min(policy.maxRetryAfterMs, retryAfterSeconds * 1000);
  return Math.round(Math.max(backoff, asked));
}

/** One operation's budget: call `spend(err)` after each retryable failure; it waits, or throws when the budget is gone. */
export class RetryBudget {
  private attempts = 0;
  private waited = 0;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly what: string,
    private readonly deadline?: Deadline,
    private readonly log?: (line: string) => void,
    /** Ends a wait early when the run is over (the transport closed). */
    private readonly stop?: AbortSignal,
  ) {}

  /** Retries spent so far. */
  get spent(): number {
    return this.attempts;
  }

  async spend(err: RetryableError): Promise<void> {
    const delay = retryDelayMs(this.policy, this.attempts, err.retryAfterSeconds);
    if (this.attempts >= this.policy.retries) throw err;
    if (this.waited + delay > this.policy.maxTotalMs)
      throw new RetryableError(`${err.message} (retries stopped: ${this.what} waited ${Math.round(this.waited / 1000)}s already)`);
    if (this.deadline && delay >= this.deadline.remainingMs())
      throw new RetryableError(`${err.message} (no time left for a retry before --timeout ${this.deadline.seconds}s)`);
    this.attempts++;
    this.waited += delay;
    const why = err.message.startsWith(this.what) ? err.message : `${this.what}: ${err.message}`;
    this.log?.(`retrying in ${(delay / 1000).toFixed(1)}s (attempt ${this.attempts + 1} of ${this.policy.retries + 1}): ${why}`);
    const signals = [this.deadline?.signal, this.stop].filter((x): x is AbortSignal => x !== undefined);
    await sleep(delay, signals.length > 1 ? AbortSignal.any(signals) : signals[0]);
  }
}
