/** Argo retryStrategy from a step's StepRetry: one shape for every step, exit codes from lib/contract.ts. */
import {
  type WorkflowTemplateSpecTemplatesRetryStrategy,
  WorkflowTemplateSpecTemplatesRetryStrategyBackoffFactor,
  WorkflowTemplateSpecTemplatesRetryStrategyLimit,
  WorkflowTemplateSpecTemplatesRetryStrategyRetryPolicy,
} from '../../imports/argoproj.io';
import { EXIT } from '../contract';
import type { StepRetry } from './constants';

/** Exponential backoff: each wait doubles the last. */
const BACKOFF_FACTOR = 2;

export function retryStrategy(retry: StepRetry): WorkflowTemplateSpecTemplatesRetryStrategy {
  return {
    limit: WorkflowTemplateSpecTemplatesRetryStrategyLimit.fromNumber(retry.limit),
    retryPolicy: retry.onErrorOnly
      ? WorkflowTemplateSpecTemplatesRetryStrategyRetryPolicy.ON_ERROR
      : WorkflowTemplateSpecTemplatesRetryStrategyRetryPolicy.ALWAYS,
    // Exit 2 is what no retry can fix (bad input, a digest or tag conflict): retrying only waits.
    expression: retry.unlessBadInput ? `lastRetry.exitCode != "${EXIT.badInput}"` : undefined,
    // `cap` bounds each wait. No `maxDuration`: Argo counts it from the first attempt's start as a
    // deadline for all attempts together, and cuts each retry pod's deadline to what is left of it,
    // so it could only kill a retry before FERRY_TIMEOUT. Each attempt has its own
    // activeDeadlineSeconds and `limit` is finite, so the node ends anyway (the validation's
    // retry-deadline rule refuses a maxDuration too short for every attempt).
    backoff: retry.backoff
      ? { duration: retry.backoff, factor: WorkflowTemplateSpecTemplatesRetryStrategyBackoffFactor.fromNumber(BACKOFF_FACTOR), cap: retry.backoffCap }
      : undefined,
  };
}
