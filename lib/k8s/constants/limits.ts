/** Requests, limits, deadlines, retries and clean-up times of the pipeline steps. */
import { PUSH_STEP_DEADLINE_SECONDS, PUSH_STEP_MARGIN_SECONDS } from '../../contract';

export interface StepLimits {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
  readonly activeDeadlineSeconds: number;
}

/** Requests, limits and deadlines per step. ferry push stays under 150 MB RSS for any image size. */
export const LIMITS: Readonly<Record<'clone' | 'build' | 'push' | 'sync' | 'doctor' | 'verify' | 'notify', StepLimits>> = {
  clone: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' }, activeDeadlineSeconds: 600 },
  build: { requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '4', memory: '8Gi' }, activeDeadlineSeconds: 3600 },
  // ferry's default --timeout is derived from this deadline (lib/contract.ts).
  push: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '2', memory: '512Mi' }, activeDeadlineSeconds: PUSH_STEP_DEADLINE_SECONDS },
  // One destination and one repository per pod, every missing tag of it: longer than one push.
  sync: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '2', memory: '512Mi' }, activeDeadlineSeconds: 7200 },
  // A handful of AWS and registry calls, nothing transferred: minutes at most, even when throttled.
  doctor: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' }, activeDeadlineSeconds: 300 },
  verify: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' }, activeDeadlineSeconds: 120 },
  notify: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' }, activeDeadlineSeconds: 120 },
};

/**
 * What ferry's own deadline (FERRY_TIMEOUT) leaves of a step's activeDeadlineSeconds: pod start,
 * reporting and the kill grace. So ferry always ends with its own message and exit code before
 * Argo kills the pod. The margin of ferry's default --timeout, declared once in lib/contract.ts.
 */
export const FERRY_DEADLINE_MARGIN_SECONDS = PUSH_STEP_MARGIN_SECONDS;

/** FERRY_TIMEOUT of a step that runs ferry: derived from its activeDeadlineSeconds, in this one place. */
export function ferryTimeoutSeconds(limits: StepLimits): number {
  return limits.activeDeadlineSeconds - FERRY_DEADLINE_MARGIN_SECONDS;
}

/** A whole run, from clone to notification. */
export const WORKFLOW_DEADLINE_SECONDS = 3 * 3600;

/** Finished workflows (and their pods and volume) are deleted after this long. */
export const TTL_SECONDS = { afterSuccess: 24 * 3600, afterFailure: 7 * 24 * 3600 } as const;

/** Kaniko's own retries of the registry push. */
export const KANIKO_PUSH_RETRY = 3;

export interface StepRetry {
  /** Attempts after the first. */
  readonly limit: number;
  /** Only when Argo itself failed the pod (eviction, node loss), never when the step failed. */
  readonly onErrorOnly?: boolean;
  /** Do not retry the step's exit code for "nothing a retry can fix" (exit 2). */
  readonly unlessBadInput?: boolean;
  /** First backoff; each further one doubles, up to backoffCap. */
  readonly backoff?: string;
  /** The longest single wait (Argo `backoff.cap`). Not a total: ferry sets no `backoff.maxDuration` (see retry.ts). */
  readonly backoffCap?: string;
}

/** How often each step is tried again (see retry.ts). */
export const RETRY: Readonly<Record<'clone' | 'build' | 'push' | 'sync' | 'notify', StepRetry>> = {
  clone: { limit: 2, unlessBadInput: true, backoff: '10s' },
  // A failed build is final; a lost pod (eviction, node loss) is worth one more try.
  build: { limit: 1, onErrorOnly: true },
  push: { limit: 3, unlessBadInput: true, backoff: '15s', backoffCap: '10m' },
  // A second sync moves only what the first did not: retrying is cheap.
  sync: { limit: 3, unlessBadInput: true, backoff: '30s', backoffCap: '10m' },
  notify: { limit: 2, backoff: '10s' },
};
