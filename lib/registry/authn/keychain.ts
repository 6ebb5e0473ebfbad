/**
 * Which credentials a registry host gets, in this order (go-containerregistry's keychain):
 *  1. ECR (a host shaped like an ECR registry in any partition, or named by
 *     AWS_ECR_ENDPOINT): see ecr.ts;
 *  2. Docker config.json `auths`;
 *  3. anonymous.
 */
import { InputError } from '../../common/errors';
import type { AwsContext } from './aws-target';
import { anonymous, type CredentialSource, type Env } from './credentials';
import { dockerConfigSource } from './docker-config';
import { ecrSource, ecrTargetOf } from './ecr';
import type { Log } from './endpoints';
import { DEFAULT_TRUST, type TrustSettings } from './flags';

export interface SourceOptions {
  readonly trust?: TrustSettings;
  /** Where the AWS endpoint lines go (stderr through the progress log). */
  readonly log?: Log;
}

export function credentialSourceFor(host: string, env: Env, roleArn?: string, options: SourceOptions = {}): CredentialSource {
  const ecr = ecrTargetOf(host, env, roleArn);
  const ctx: AwsContext = { env, trust: options.trust ?? DEFAULT_TRUST, log: options.log ?? (() => undefined) };
  if (ecr) return ecrSource(ecr, ctx);
  if (roleArn) throw new InputError(`a role ARN was given for ${host}, which is not an ECR registry (set AWS_ECR_ENDPOINT=${host} if it is one)`);
  return dockerConfigSource(host, env) ?? anonymous;
}
