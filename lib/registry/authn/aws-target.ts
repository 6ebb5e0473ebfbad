/**
 * What every AWS credential provider of one ECR destination is given: the destination (host,
 * region, FIPS, role) and the run's context (environment, trust flags, endpoint log). Shared by
 * aws-credentials.ts and federation.ts, so neither imports the other's internals.
 */
import { partitionOfRegion } from '../../config/partitions';
import type { Env } from './credentials';
import { AWS_USER_AGENT, type AwsClientConfig, endpointLogPlugin, type Log } from './endpoints';
import type { TrustSettings } from './flags';

export interface AwsTarget {
  readonly host: string;
  readonly region: string;
  readonly fips: boolean;
  readonly roleArn?: string;
}

export interface AwsContext {
  readonly env: Env;
  readonly trust: TrustSettings;
  readonly log: Log;
}

/** The partition of a target's region (ecrTargetOf accepts only regions of a known partition). */
export function partitionOf(target: AwsTarget): string {
  return partitionOfRegion(target.region)!.id;
}

/** Config for an STS client the SDK creates inside a credential provider. */
export function innerSts(config: Partial<AwsClientConfig>, log: Log) {
  return { clientConfig: { customUserAgent: AWS_USER_AGENT, ...config }, clientPlugins: [endpointLogPlugin(log)] };
}

export function sessionName(): string {
  return `ferry-push-${Date.now()}`;
}
