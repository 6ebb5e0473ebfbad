/**
 * The trust options: how `=<role-arn>` on a `--to` is reached. Defined once here and
 * spread into each command's options next to the common ones. Every value is checked
 * before the first request; a bad one is an InputError (exit 2) naming the flag or the
 * environment variable it came from.
 */
import type { ParseArgsConfig } from 'node:util';
import { InputError } from '../../common/errors';
import { partitionOfRegion } from '../../config/partitions';
import type { Env } from './credentials';
import { hasFipsEndpoint } from './endpoints';

export const TRUST_MODES = ['cluster-oidc', 'outbound-federation'] as const;
export type TrustMode = (typeof TRUST_MODES)[number];

/**
 * The one signing algorithm ferry asks GetWebIdentityToken for; the source role's
 * policy pins `sts:SigningAlgorithm` to the same value (the naming module's
 * OUTBOUND_SIGNING_ALGORITHM), so the two must change together.
 */
export const TOKEN_SIGNING_ALGORITHM = 'RS256';

export const TRUST_DEFAULTS = { mode: 'cluster-oidc', audience: 'sts.amazonaws.com', durationSeconds: 300 } as const;
/** GetWebIdentityToken's DurationSeconds range. */
export const TOKEN_DURATION_LIMITS = [60, 3600] as const;

export const TRUST_ENV = {
  mode: 'FERRY_TRUST',
  audience: 'FERRY_TOKEN_AUDIENCE',
  region: 'FERRY_TOKEN_REGION',
  durationSeconds: 'FERRY_TOKEN_DURATION',
  fips: 'FERRY_TOKEN_FIPS',
} as const;

/** parseArgs descriptors; spread them into a command's options. */
export const TRUST_OPTIONS = {
  trust: { type: 'string' },
  'token-audience': { type: 'string' },
  'token-region': { type: 'string' },
  'token-duration': { type: 'string' },
  'token-fips': { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

export const TRUST_USAGE = `Trust (how =<role-arn> on a --to is reached):
  --trust cluster-oidc|outbound-federation  (env ${TRUST_ENV.mode}; default ${TRUST_DEFAULTS.mode})
                                cluster-oidc: AssumeRoleWithWebIdentity with the pod's own token
                                (AWS_WEB_IDENTITY_TOKEN_FILE) at the STS of the registry's region.
                                outbound-federation: GetWebIdentityToken with the pod's default
                                credentials at --token-region, then AssumeRoleWithWebIdentity of
                                the role with that token at the STS of the registry's region
  --token-audience <aud>        audience of the minted token (env ${TRUST_ENV.audience};
                                default ${TRUST_DEFAULTS.audience})
  --token-region <region>       where GetWebIdentityToken is called, the build region
                                (env ${TRUST_ENV.region}; default AWS_REGION)
  --token-duration <seconds>    lifetime of the minted token (env ${TRUST_ENV.durationSeconds};
                                default ${TRUST_DEFAULTS.durationSeconds}, ${TOKEN_DURATION_LIMITS.join('..')})
  --token-fips                  call GetWebIdentityToken at the FIPS endpoint of --token-region
                                (env ${TRUST_ENV.fips}=true); implied for a dkr.ecr-fips destination
                                wherever --token-region has a FIPS STS endpoint`;

export interface TrustSettings {
  readonly mode: TrustMode;
  readonly audience: string;
  /** Where GetWebIdentityToken is called; required only when a role is reached by outbound federation. */
  readonly region?: string;
  readonly durationSeconds: number;
  readonly fips: boolean;
}

export const DEFAULT_TRUST: TrustSettings = {
  mode: TRUST_DEFAULTS.mode,
  audience: TRUST_DEFAULTS.audience,
  durationSeconds: TRUST_DEFAULTS.durationSeconds,
  fips: false,
};

export interface TrustValues {
  trust?: string;
  'token-audience'?: string;
  'token-region'?: string;
  'token-duration'?: string;
  'token-fips'?: boolean;
}

/** Which name a value came from, for messages: the flag when given, else the variable. */
function source(flag: string, given: unknown, variable: string): string {
  return given !== undefined ? flag : variable;
}

function booleanEnv(name: string, value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new InputError(`${name}="${value}" is not true or false`);
}

export function parseTrust(values: TrustValues, env: Env): TrustSettings {
  const mode = values.trust ?? env[TRUST_ENV.mode] ?? TRUST_DEFAULTS.mode;
  if (!(TRUST_MODES as readonly string[]).includes(mode)) {
    throw new InputError(`${source('--trust', values.trust, TRUST_ENV.mode)} "${mode}" is not one of ${TRUST_MODES.join(', ')}`);
  }
  const audience = values['token-audience'] ?? env[TRUST_ENV.audience] ?? TRUST_DEFAULTS.audience;
  if (!/^\S+$/.test(audience))
    throw new InputError(`${source('--token-audience', values['token-audience'], TRUST_ENV.audience)} "${audience}" must be one non-empty word`);
  const durationText = values['token-duration'] ?? env[TRUST_ENV.durationSeconds];
  const durationSeconds = durationText === undefined ? TRUST_DEFAULTS.durationSeconds : Number(durationText);
  const [min, max] = TOKEN_DURATION_LIMITS;
  if (!Number.isInteger(durationSeconds) || durationSeconds < min || durationSeconds > max || durationText?.trim() === '') {
    throw new InputError(
      `${source('--token-duration', values['token-duration'], TRUST_ENV.durationSeconds)} must be a whole number of seconds from ${min} to ${max}, got "${durationText}"`,
    );
  }
  const region = values['token-region'] ?? env[TRUST_ENV.region] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region !== undefined && !partitionOfRegion(region)) {
    throw new InputError(
      `${source('--token-region', values['token-region'], `${TRUST_ENV.region}/AWS_REGION`)} "${region}" is not a region of any AWS partition`,
    );
  }
  const fips = values['token-fips'] ?? booleanEnv(TRUST_ENV.fips, env[TRUST_ENV.fips]);
  if (fips && region !== undefined && !hasFipsEndpoint(region)) {
    throw new InputError(
      `${source('--token-fips', values['token-fips'], TRUST_ENV.fips)}: AWS runs no FIPS STS endpoint in ${region} (only us-east-1, us-east-2, us-west-1, us-west-2 and GovCloud)`,
    );
  }
  return { mode: mode as TrustMode, audience, region, durationSeconds, fips };
}

/**
 * A role reached by outbound federation needs a token region, in another partition:
 * STS refuses GetWebIdentityToken tokens inside their own partition.
 */
export function checkFederatedRole(trust: TrustSettings, roleArn: string, rolePartition: string): void {
  if (trust.mode !== 'outbound-federation') return;
  if (!trust.region) {
    throw new InputError(
      `--trust outbound-federation for ${roleArn} needs the build region to mint the token in: set --token-region, ${TRUST_ENV.region} or AWS_REGION`,
    );
  }
  const tokenPartition = partitionOfRegion(trust.region)!.id;
  if (tokenPartition === rolePartition) {
    throw new InputError(
      `--trust outbound-federation for ${roleArn}: the token region ${trust.region} is in the role's own partition ${rolePartition}, ` +
        'and STS rejects outbound-federation tokens inside one partition; use --trust cluster-oidc for this destination',
    );
  }
}
