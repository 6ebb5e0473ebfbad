/**
 * Outbound identity federation, AWS's documented route across partitions: the pod's
 * default credentials (IRSA, the source role in the build account) call STS
 * GetWebIdentityToken at the token region's STS; the destination role is assumed with
 * that token at the STS of the registry's region. No SDK credential provider chains the
 * two, so this one does; each run of it mints a fresh token, and `refreshing` runs it
 * again before the session expires. The token is never logged or put in an error.
 */
import type { AwsCredentialIdentity } from '@smithy/types';
import { partitionOfRegion } from '../../config/partitions';
import { type AwsContext, type AwsTarget, innerSts, partitionOf, sessionName } from './aws-target';
import { endpointLogPlugin, stsConfig } from './endpoints';
import { checkFederatedRole, TOKEN_SIGNING_ALGORITHM } from './flags';
import { hopError } from './hops';

/** The claims of a token ferry reports (never the token itself). */
export interface TokenClaims {
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: string | string[];
  /** Expiry, seconds since the epoch. */
  readonly exp?: number;
}

/**
 * iss, sub, aud and exp of a JWT, without the signature or any other claim: for error messages, and
 * for the doctor's report of which `sub` STS put into a minted token (with or without the role
 * path, which AWS does not document). The signature is not checked (STS does); a token that is not
 * a JWT gives {}.
 */
export function tokenClaims(token: string): TokenClaims {
  try {
    const { iss, sub, aud, exp } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return { iss, sub, aud, exp: typeof exp === 'number' ? exp : undefined };
  } catch {
    return {};
  }
}

/** GetWebIdentityToken with the pod's default credentials at the token region's STS: the token, never logged. */
export async function mintToken(target: AwsTarget & { roleArn: string }, ctx: AwsContext, tokenRegion: string): Promise<string> {
  const { STSClient, GetWebIdentityTokenCommand } = require('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts');
  const { fromNodeProviderChain } = require('@aws-sdk/credential-providers') as typeof import('@aws-sdk/credential-providers');
  // A call made for a FIPS destination goes to a FIPS endpoint wherever AWS has one, the mint
  // in the build region included, whether or not --token-fips asked (stsConfig falls back to
  // the regular endpoint where the token region has no FIPS STS; synth says so once).
  const config = stsConfig(tokenRegion, ctx.trust.fips || target.fips);
  // The pod's own credentials, with their own STS call (IRSA) in the same region and FIPS mode.
  const sts = new STSClient({ ...config, credentials: fromNodeProviderChain(innerSts(config, ctx.log)) });
  sts.middlewareStack.use(endpointLogPlugin(ctx.log));
  const partition = partitionOfRegion(tokenRegion)!.id;
  try {
    const out = await sts.send(
      new GetWebIdentityTokenCommand({
        Audience: [ctx.trust.audience],
        SigningAlgorithm: TOKEN_SIGNING_ALGORITHM,
        DurationSeconds: ctx.trust.durationSeconds,
      }),
    );
    if (!out.WebIdentityToken) throw new Error('STS returned no WebIdentityToken');
    return out.WebIdentityToken;
  } catch (err) {
    throw hopError('mint', err, {
      region: tokenRegion,
      partition,
      trust: 'outbound-federation',
      audience: ctx.trust.audience,
      role: target.roleArn,
      host: target.host,
    });
  } finally {
    sts.destroy();
  }
}

/** AssumeRoleWithWebIdentity of the destination role with a minted token, at the STS of the registry's region. */
export async function assumeWithToken(target: AwsTarget & { roleArn: string }, ctx: AwsContext, token: string): Promise<AwsCredentialIdentity> {
  const { fromWebToken } = require('@aws-sdk/credential-providers') as typeof import('@aws-sdk/credential-providers');
  const config = stsConfig(target.region, target.fips);
  try {
    return await fromWebToken({ roleArn: target.roleArn, webIdentityToken: token, roleSessionName: sessionName(), ...innerSts(config, ctx.log) })();
  } catch (err) {
    throw hopError('assume', err, {
      role: target.roleArn,
      region: config.region,
      partition: partitionOf(target),
      trust: 'outbound-federation',
      claims: tokenClaims(token),
      audience: ctx.trust.audience,
      host: target.host,
    });
  }
}

/** A provider of the destination role's credentials by outbound federation. */
export function outboundFederation(target: AwsTarget & { roleArn: string }, ctx: AwsContext): () => Promise<AwsCredentialIdentity> {
  checkFederatedRole(ctx.trust, target.roleArn, partitionOf(target));
  const tokenRegion = ctx.trust.region!;
  return async () => assumeWithToken(target, ctx, await mintToken(target, ctx, tokenRegion));
}
