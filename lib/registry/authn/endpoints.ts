/**
 * Which AWS endpoint each call goes to, and a log line for every one ferry calls.
 *
 * The SDK's endpoint rules build a FIPS host name for any region once `useFipsEndpoint`
 * is set (`sts-fips.eu-west-1.amazonaws.com`, `api.ecr-fips.cn-north-1.amazonaws.com.cn`),
 * whether or not AWS runs one there. So ferry asks for FIPS only where AWS's endpoint
 * pages list a FIPS endpoint (hasFipsEndpoint, in config/partitions.ts so that synth reads
 * the same regions), and names the ECR one itself because the SDK's
 * `api.ecr-fips.<region>` is not a name those pages list. Sources (checked Nov 2026):
 *  - STS: https://docs.aws.amazon.com/general/latest/gr/sts.html
 *    (sts-fips.<region>.amazonaws.com in us-east-1, us-east-2, us-west-1, us-west-2);
 *    GovCloud's regional STS endpoints are FIPS endpoints themselves
 *    (https://aws.amazon.com/compliance/fips/, "AWS GovCloud (US)"), which is also what
 *    the SDK's STS rules choose there with useFipsEndpoint.
 *  - ECR: https://docs.aws.amazon.com/general/latest/gr/ecr.html
 *    (ecr-fips.<region>.amazonaws.com and dkr.ecr-fips.<region>.amazonaws.com in the same
 *    four US regions) and https://docs.aws.amazon.com/govcloud-us/latest/UserGuide/using-govcloud-endpoints.html.
 *  - aws-cn and aws-eusc have no FIPS endpoints for either service.
 */
import type { Pluggable, UserAgent } from '@smithy/types';
import { hasFipsEndpoint, partitionOfRegion } from '../../config/partitions';
import { FERRY_VERSION } from '../../contract';
import type { Env } from './credentials';

/** Where AWS runs a FIPS endpoint of STS and ECR (the same regions for both); the synth asks the same table. */
export { hasFipsEndpoint };

/**
 * Appended by the SDK to its own User-Agent and x-amz-user-agent (as `ferry/<version>`), so
 * CloudTrail's userAgent names ferry. A name/version pair: the SDK escapes a "/" inside a name.
 */
export const AWS_USER_AGENT: UserAgent = [['ferry', FERRY_VERSION]];

export interface AwsClientConfig {
  readonly region: string;
  readonly useFipsEndpoint: boolean;
  readonly endpoint?: string;
  readonly customUserAgent?: UserAgent;
}

/**
 * STS client settings for `region`; `fips` asks for the FIPS endpoint, which is used
 * where AWS has one (GovCloud's regional STS is FIPS either way).
 */
export function stsConfig(region: string, fips: boolean): AwsClientConfig {
  return { region, useFipsEndpoint: fips && hasFipsEndpoint(region), customUserAgent: AWS_USER_AGENT };
}

/**
 * ECR API client settings. AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL (a VPC endpoint, or
 * a test stand-in) still win over the FIPS name, as the SDK documents for every client.
 */
export function ecrConfig(region: string, fips: boolean, env: Env): AwsClientConfig {
  const useFipsEndpoint = fips && hasFipsEndpoint(region);
  if (!useFipsEndpoint || env.AWS_ENDPOINT_URL_ECR || env.AWS_ENDPOINT_URL) return { region, useFipsEndpoint, customUserAgent: AWS_USER_AGENT };
  // The SDK refuses useFipsEndpoint next to an endpoint: the endpoint named is the FIPS one.
  return {
    region,
    useFipsEndpoint: false,
    endpoint: `https://ecr-fips.${region}.${partitionOfRegion(region)!.dnsSuffix}`,
    customUserAgent: AWS_USER_AGENT,
  };
}

export type Log = (line: string) => void;

/**
 * An SDK plugin that logs the host of every AWS call ferry makes, once per command (the
 * build step runs before retries). Only the host and the operation: never a header.
 */
// biome-ignore lint/suspicious/noExplicitAny: one plugin serves every client's input/output types
export function endpointLogPlugin(log: Log): Pluggable<any, any> {
  return {
    applyToStack(stack) {
      stack.add(
        (next, context) => async (args) => {
          const request = args.request as { hostname?: string } | undefined;
          if (request?.hostname)
            log(
              `aws endpoint: ${request.hostname} (${String(context.clientName ?? '').replace(/Client$/, '')} ${String(context.commandName ?? '').replace(/Command$/, '')})`,
            );
          return next(args);
        },
        { step: 'build', name: 'ferryEndpointLog', override: true },
      );
    },
  };
}
