/**
 * Retries that Argo would cut short. `retryStrategy.backoff.maxDuration` reads like a cap per wait
 * but is a total deadline, counted from the first attempt's start: once it has passed, the node
 * fails with "Max duration limit exceeded" and is not retried, a wait that would end past it is not
 * started, and each retry pod's deadline is cut to what is left (workflow/controller/operator.go,
 * processNodeRetries, in v3.7 and v4.1; argo-workflows#13044, closed as intended). The cap per wait
 * is `backoff.cap`. So a maxDuration must leave room for every attempt the strategy promises, each
 * running to its activeDeadlineSeconds, and every wait between them.
 */
import { type Context, type Finding, finding, type KubeObject, type Template, templatePath, templatesOf } from './model';

/** The fields of an Argo retryStrategy this rule reads (loose: the input is untrusted JSON). */
export interface RetryStrategy {
  readonly limit?: unknown;
  readonly backoff?: {
    readonly duration?: unknown;
    readonly factor?: unknown;
    readonly cap?: unknown;
    readonly maxDuration?: unknown;
  };
}

type Backoff = NonNullable<RetryStrategy['backoff']>;

// Go's time.ParseDuration, which Argo applies to backoff durations after trying a plain integer
// (seconds). No npm package parses Go's grammar exactly (units ns to h, fractions, several parts).
const GO_UNIT_SECONDS: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, µs: 1e-6, μs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
const GO_DURATION = /^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const GO_PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/** Seconds of an Argo duration string ("90", "15s", "1h30m"), as Argo's ParseStringToDuration reads it; undefined if Argo would refuse it. */
export function argoDurationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  if (/^[-+]?\d+$/.test(value)) return Number(value);
  if (!GO_DURATION.test(value)) return undefined;
  const sign = value.startsWith('-') ? -1 : 1;
  return sign * [...value.matchAll(GO_PART)].reduce((sum, [, n, unit]) => sum + Number(n) * GO_UNIT_SECONDS[unit], 0);
}

/** An int-or-string field that holds a whole number (limit, factor, activeDeadlineSeconds); undefined otherwise. */
function wholeNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined;
}

/**
 * The waits before retry 1..retries, in seconds, as the controller computes them: duration ×
 * factor^(n-1) for retry n (the duration alone without a positive factor), each at most cap.
 * No jitter. Undefined when a field does not parse.
 */
export function backoffWaits(backoff: Backoff, retries: number): number[] | undefined {
  const duration = argoDurationSeconds(backoff.duration);
  const factor = backoff.factor === undefined ? 0 : wholeNumber(backoff.factor);
  const cap = backoff.cap === undefined ? Number.POSITIVE_INFINITY : argoDurationSeconds(backoff.cap);
  if (duration === undefined || factor === undefined || cap === undefined) return undefined;
  return Array.from({ length: retries }, (_, i) => Math.min(factor > 0 ? duration * factor ** i : duration, cap));
}

/** The longest a retried node can take: every attempt to its deadline, and every wait between them. */
export function worstCaseSeconds(retries: number, attemptDeadline: number, waits: readonly number[]): number {
  return (retries + 1) * attemptDeadline + waits.reduce((a, b) => a + b, 0);
}

export function retryFindings(context: Context): Finding[] {
  return context.workflows.flatMap((wt) => {
    const workflowStrategy = (wt.spec as { retryStrategy?: RetryStrategy }).retryStrategy;
    return templatesOf(wt).flatMap((t) => {
      const own = (t as { retryStrategy?: RetryStrategy }).retryStrategy;
      // A workflow-level retryStrategy applies to every template without its own (operator.go, retryStrategy()).
      const [strategy, path] = own ? [own, `${templatePath(t)}.retryStrategy`] : [workflowStrategy, 'spec.retryStrategy'];
      return strategy?.backoff ? backoffFindings(wt, t, strategy, path, own ? '' : `(for template "${t.name}") `) : [];
    });
  });
}

function backoffFindings(wt: KubeObject, t: Template, strategy: RetryStrategy, path: string, forTemplate: string): Finding[] {
  const backoff = strategy.backoff!;
  const at = (field: string, message: string) => finding('retry-deadline', wt, `${path}.backoff.${field}`, `${forTemplate}${message}`);
  if (backoff.duration === undefined) {
    return [at('duration', 'is missing: Argo fails the node at its first retry ("no base duration specified for retryStrategy"); set backoff.duration')];
  }
  const unreadable = (['duration', 'cap', 'maxDuration'] as const).filter((f) => backoff[f] !== undefined && argoDurationSeconds(backoff[f]) === undefined);
  if (unreadable.length > 0) {
    return unreadable.map((f) =>
      at(f, `is ${JSON.stringify(backoff[f])}, which Argo cannot read as a duration: write seconds ("90") or a Go duration ("15s", "10m")`),
    );
  }
  if (backoff.factor !== undefined && wholeNumber(backoff.factor) === undefined) {
    return [at('factor', `is ${JSON.stringify(backoff.factor)}; Argo reads only a whole number`)];
  }
  return backoff.maxDuration === undefined ? [] : maxDurationFindings(t, strategy, at);
}

function maxDurationFindings(t: Template, strategy: RetryStrategy, at: (field: string, message: string) => Finding): Finding[] {
  const backoff = strategy.backoff!;
  const maxDuration = argoDurationSeconds(backoff.maxDuration)!;
  const retries = wholeNumber(strategy.limit);
  // Without a limit Argo retries until maxDuration ends: then it is the bound, as intended. A
  // limit that is not a number (a parameter resolved at run time) leaves nothing to compare.
  if (retries === undefined) return [];
  const fix = "maxDuration is a total deadline from the first attempt's start, not a cap per wait (that is backoff.cap)";
  const deadline = wholeNumber((t as { activeDeadlineSeconds?: unknown }).activeDeadlineSeconds);
  if (deadline === undefined) {
    return [
      at(
        'maxDuration',
        `is ${JSON.stringify(backoff.maxDuration)}, but the template has no activeDeadlineSeconds, so no maxDuration is sure to leave room for its ${retries + 1} attempts: ${fix}; set activeDeadlineSeconds, or drop maxDuration`,
      ),
    ];
  }
  const waits = backoffWaits(backoff, retries)!;
  const needed = worstCaseSeconds(retries, deadline, waits);
  if (maxDuration >= needed) return [];
  return [
    at(
      'maxDuration',
      `is ${JSON.stringify(backoff.maxDuration)} (${maxDuration}s), but its ${retries + 1} attempts of up to ${deadline}s (activeDeadlineSeconds) and the waits ${waits.map((w) => `${w}s`).join(', ') || 'none'} take up to ${needed}s; ${fix}, so Argo would fail the node ("Max duration limit exceeded") and cut retry pods short: set it to at least "${needed}s", or drop it`,
    ),
  ];
}
