/**
 * How a push or sync step reaches a destination D (the identity model of docs/pipeline.md):
 *
 * - the pod runs as D's push ServiceAccount, whose IRSA role is the SOURCE role
 *   (naming.sourceRoleArn): the default credential chain pulls from the build registry;
 * - `=<roleArn(D)>` on the `--to` names the destination role, reached per D.trust:
 *   cluster-oidc: AssumeRoleWithWebIdentity with the pod's projected token at the destination
 *   region's STS; outbound-federation: GetWebIdentityToken with the pod's credentials at the build
 *   region's STS (--token-region), then AssumeRoleWithWebIdentity at the destination region's STS.
 * - AWS_REGION is the build region: the default chain's STS and the build registry live there.
 */
import { mintsAtFipsSts } from '../config/fips-mint';
import type { FerryConfig, Target } from '../config/model';
import { roleArn } from '../config/naming';
import { ferryTimeoutSeconds, type StepLimits } from './constants';

/** `<ref>=<role-arn>`: a destination ferry reaches by assuming D's pusher role. */
export function withRole(ref: string, destination: Target): string {
  return `${ref}=${roleArn(destination)}`;
}

/** The ferry trust options for D (CONTRACT: one definition shared by push, copy and sync). */
export function trustArgs(config: FerryConfig, destination: Target): string[] {
  if (destination.trust !== 'outbound-federation') return ['--trust', 'cluster-oidc'];
  const federation = config.outboundFederation;
  // The config check refuses this first (build.yaml outboundFederation is required then).
  if (!federation) throw new Error(`destination ${destination.name} uses trust: outbound-federation, but build.yaml has no outboundFederation`);
  return [
    '--trust',
    'outbound-federation',
    '--token-audience',
    federation.audience,
    // The token is minted in the build partition, by the source role, at the build region's STS.
    '--token-region',
    config.build.region,
    '--token-duration',
    String(federation.tokenDurationSeconds),
    // FIPS when the build or this destination is FIPS, wherever the build region has a FIPS STS.
    ...(mintsAtFipsSts(config, destination) ? ['--token-fips'] : []),
  ];
}

/** Environment of a step that runs ferry against D: the build region, and ferry's own deadline. */
export function deliveryEnv(config: FerryConfig, limits: StepLimits): Record<string, string> {
  return {
    // The default chain (IRSA -> source role) and the build registry are in the build region;
    // non-commercial partitions have no global STS, so the region must be set, and the webhook
    // keeps a region the container sets.
    AWS_REGION: config.build.region,
    FERRY_TIMEOUT: String(ferryTimeoutSeconds(limits)),
  };
}
