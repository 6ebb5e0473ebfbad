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
    backoff: retry.backoff
      ? { duration: retry.backoff, factor: WorkflowTemplateSpecTemplatesRetryStrategyBackoffFactor.fromNumber(BACKOFF_FACTOR), maxDuration: retry.maxBackoff }
      : undefined,
  };
}
