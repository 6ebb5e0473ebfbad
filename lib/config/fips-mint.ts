/**
 * Where the outbound web identity token of a destination is minted: at the FIPS STS endpoint of
 * the build region when either end is FIPS (the build registry, or the destination's) and AWS runs
 * a FIPS STS endpoint in that region. The Argo push and sync steps pass `--token-fips` exactly then
 * (lib/k8s/delivery.ts), and synth names once the FIPS destinations whose token cannot be minted at
 * a FIPS endpoint. The CLI reaches the same answer for a `dkr.ecr-fips` destination by itself.
 */
import type { FerryConfig, Target } from './model';
import { hasFipsEndpoint } from './partitions';

function wantsFipsMint(config: FerryConfig, destination: Target): boolean {
  return destination.trust === 'outbound-federation' && (config.build.fips || destination.fips);
}

/** True when D's token is minted at the FIPS STS endpoint of the build region. */
export function mintsAtFipsSts(config: FerryConfig, destination: Target): boolean {
  return wantsFipsMint(config, destination) && hasFipsEndpoint(config.build.region);
}

/**
 * One line, or none: the FIPS outbound-federation destinations whose token goes to the regular STS
 * endpoint of the build region, because AWS runs no FIPS STS endpoint there.
 */
export function fipsMintNotices(config: FerryConfig): string[] {
  const region = config.build.region;
  if (hasFipsEndpoint(region)) return [];
  const names = config.destinations.filter((d) => wantsFipsMint(config, d)).map((d) => d.name);
  if (names.length === 0) return [];
  const { dnsSuffix } = config.build.partition;
  return [
    `ferry: ${names.join(', ')} (fips: true, trust: outbound-federation): the token, and the source role's own STS call that signs for it, go to sts.${region}.${dnsSuffix}, not to a FIPS endpoint: ` +
      `AWS runs no FIPS STS endpoint in the build region ${region} (only in us-east-1, us-east-2, us-west-1, us-west-2 and GovCloud); the destination's own STS and ECR calls stay on FIPS endpoints`,
  ];
}
