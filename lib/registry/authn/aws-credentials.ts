/**
 * AWS credentials for one ECR destination, from the SDK's own credential providers:
 *  - no role: the default chain (env keys, IRSA's web identity, profiles, IMDS);
 *  - a role, --trust cluster-oidc: `fromTokenFile`, the pod's projected token exchanged
 *    at the STS of the registry's region;
 *  - a role, --trust outbound-federation: see federation.ts.
 * Every STS client is told the region and FIPS setting explicitly: the SDK's inner STS
 * client does not inherit `useFipsEndpoint` from the client it serves.
 */
import * as fs from 'node:fs';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { type AwsContext, type AwsTarget, innerSts, partitionOf, sessionName } from './aws-target';
import { stsConfig } from './endpoints';
import { outboundFederation, tokenClaims } from './federation';
import { HopError, hopError } from './hops';

/** Refresh this long before credentials expire (the SDK clients use the same margin). */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * Caches what `provider` returns until REFRESH_MARGIN_MS before it expires; concurrent
 * callers share one pending call, and a failure is not cached.
 */
export function refreshing(provider: () => Promise<AwsCredentialIdentity>, now: () => number = Date.now): AwsCredentialIdentityProvider {
  let pending: Promise<AwsCredentialIdentity> | undefined;
  return () => {
    if (pending) {
      const current = pending;
      pending = current.then((c) => (c.expiration && c.expiration.getTime() - now() < REFRESH_MARGIN_MS ? provider() : c));
    } else {
      pending = provider();
    }
    pending.catch(() => {
      pending = undefined;
    });
    return pending;
  };
}

function defaultChain(target: AwsTarget, ctx: AwsContext): AwsCredentialIdentityProvider {
  // Loaded on demand so that pushes to other registries start without the SDK.
  const { fromNodeProviderChain } = require('@aws-sdk/credential-providers') as typeof import('@aws-sdk/credential-providers');
  // No region: the inner STS call (IRSA's web identity) goes to the region of the client
  // these credentials serve, which is the registry's.
  const chain = fromNodeProviderChain(innerSts({ useFipsEndpoint: stsConfig(target.region, target.fips).useFipsEndpoint }, ctx.log));
  const podRole = ctx.env.AWS_ROLE_ARN;
  if (!podRole || !ctx.env.AWS_WEB_IDENTITY_TOKEN_FILE) return chain;
  // IRSA: the chain's failure is the exchange of the pod's token for its own role, a hop
  // of its own (otherwise it would surface as a failed ECR login).
  return async (props) => {
    try {
      return await chain(props);
    } catch (err) {
      throw hopError('pod-role', err, {
        role: podRole,
        region: target.region,
        partition: partitionOf(target),
        trust: 'IRSA',
        host: target.host,
        claims: claimsOfFile(ctx.env.AWS_WEB_IDENTITY_TOKEN_FILE),
      });
    }
  };
}

/** The claims of the pod's projected token, for messages; none when it cannot be read. */
function claimsOfFile(file: string | undefined): ReturnType<typeof tokenClaims> | undefined {
  try {
    return file ? tokenClaims(fs.readFileSync(file, 'utf8').trim()) : undefined;
  } catch {
    return undefined;
  }
}

function clusterOidc(target: AwsTarget & { roleArn: string }, ctx: AwsContext): AwsCredentialIdentityProvider {
  const tokenFile = ctx.env.AWS_WEB_IDENTITY_TOKEN_FILE;
  const { fromWebToken } = require('@aws-sdk/credential-providers') as typeof import('@aws-sdk/credential-providers');
  const sts = stsConfig(target.region, target.fips);
  return async () => {
    // Checked when used, so that only this destination fails.
    if (!tokenFile)
      throw new HopError(
        `role ${target.roleArn} for ${target.host} needs a web identity token, but AWS_WEB_IDENTITY_TOKEN_FILE is not set (is the pod's ServiceAccount annotated with eks.amazonaws.com/role-arn?)`,
      );
    let webIdentityToken = '';
    try {
      // Read each time: the kubelet rotates the token. Trimmed, unlike the SDK's
      // fromTokenFile, so a token file written with a trailing newline still works.
      webIdentityToken = fs.readFileSync(tokenFile, 'utf8').trim();
      return await fromWebToken({ roleArn: target.roleArn, webIdentityToken, roleSessionName: sessionName(), ...innerSts(sts, ctx.log) })();
    } catch (err) {
      throw hopError('assume', err, {
        role: target.roleArn,
        region: sts.region,
        partition: partitionOf(target),
        trust: 'cluster-oidc',
        claims: webIdentityToken ? tokenClaims(webIdentityToken) : undefined,
      });
    }
  };
}

/** A destination's AWS credentials, and how they were obtained (safe to print). */
export interface AwsCredentials {
  readonly provider: AwsCredentialIdentityProvider;
  readonly describe: string;
}

/** The credentials the ECR client of `target` signs with, refreshed before they expire. */
export function awsCredentialsFor(target: AwsTarget, ctx: AwsContext): AwsCredentials {
  if (!target.roleArn) return { provider: defaultChain(target, ctx), describe: 'the default AWS credentials' };
  const role = { ...target, roleArn: target.roleArn };
  if (ctx.trust.mode === 'outbound-federation') {
    return { provider: refreshing(outboundFederation(role, ctx)), describe: `role ${target.roleArn} by outbound federation` };
  }
  return { provider: refreshing(clusterOidc(role, ctx)), describe: `role ${target.roleArn}` };
}
