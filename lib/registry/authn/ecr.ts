/**
 * ECR as a credential source: GetAuthorizationToken in the registry's own region (the
 * registry host decides it), signed with the destination's AWS credentials, at the FIPS
 * endpoint for a `dkr.ecr-fips.*` registry. The answer is a Basic user/password pair
 * valid for 12 hours; a 401 asks for a new one.
 */

import { InputError } from '../../common/errors';
import { parseEcrHost, partitionOfRegion } from '../../config/partitions';
import { normalizeHost } from '../host';
import { type AwsCredentials, awsCredentialsFor } from './aws-credentials';
import { type AwsContext, type AwsTarget, partitionOf } from './aws-target';
import { type CredentialSource, type Credentials, type Env, splitUserPassword } from './credentials';
import { ecrConfig, endpointLogPlugin, hasFipsEndpoint } from './endpoints';
import { hopError } from './hops';

export type EcrTarget = AwsTarget;

/** The ECR registry a host is, by its name or because AWS_ECR_ENDPOINT names it. */
export function ecrTargetOf(host: string, env: Env, roleArn?: string): EcrTarget | undefined {
  const parsed = parseEcrHost(host);
  if (parsed) {
    if (parsed.fips && !hasFipsEndpoint(parsed.region)) {
      throw new InputError(
        `${host}: AWS runs no ECR FIPS endpoint in ${parsed.region} (only in the US commercial regions us-east-1, us-east-2, us-west-1, us-west-2 and in GovCloud); use dkr.ecr.${parsed.region}`,
      );
    }
    return { host, region: parsed.region, fips: parsed.fips, roleArn };
  }
  if (!env.AWS_ECR_ENDPOINT || normalizeHost(env.AWS_ECR_ENDPOINT) !== normalizeHost(host)) return undefined;
  // A host that is not ECR-shaped (a test registry, a proxy) has no region in its name.
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new InputError(`AWS_ECR_ENDPOINT marks ${host} as ECR but its name shows no region; set AWS_REGION`);
  if (!partitionOfRegion(region)) throw new InputError(`AWS_REGION "${region}" is not a region of any AWS partition`);
  return { host, region, fips: false, roleArn };
}

/**
 * `aws`: the AWS credentials the login is signed with; default: the destination's, by its trust
 * path (the doctor passes credentials it already obtained hop by hop).
 */
export function ecrSource(target: EcrTarget, ctx: AwsContext, aws: AwsCredentials = awsCredentialsFor(target, ctx)): CredentialSource {
  const fetch = async (): Promise<Credentials> => {
    const { ECRClient, GetAuthorizationTokenCommand } = require('@aws-sdk/client-ecr') as typeof import('@aws-sdk/client-ecr');
    const ecr = new ECRClient({ ...ecrConfig(target.region, target.fips, ctx.env), credentials: aws.provider });
    ecr.middlewareStack.use(endpointLogPlugin(ctx.log));
    try {
      const out = await ecr.send(new GetAuthorizationTokenCommand({}));
      const token = out.authorizationData?.[0]?.authorizationToken;
      if (!token) throw new Error('no authorizationData in the answer');
      return splitUserPassword(Buffer.from(token, 'base64').toString('utf8'));
    } catch (err) {
      throw hopError('ecr-login', err, { role: target.roleArn, region: target.region, partition: partitionOf(target), host: target.host });
    } finally {
      ecr.destroy();
    }
  };
  let cached: Promise<Credentials> | undefined;
  return {
    describe: `ECR token from ${aws.describe} in ${target.region}`,
    get(refresh) {
      if (refresh || !cached) {
        cached = fetch();
        cached.catch(() => {
          cached = undefined;
        });
      }
      return cached;
    },
  };
}
