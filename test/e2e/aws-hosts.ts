/**
 * What an AWS host name says: which service, which region, which partition. The partition of a
 * region comes from the AWS SDK's own partition data (not from ferry's table), so the stand-ins
 * judge ferry by an independent source.
 */
import { partition } from '@aws-sdk/core/client';

export type AwsService = 'sts' | 'ecr-api' | 'ecr-registry';

export interface AwsHost {
  readonly service: AwsService;
  readonly region: string;
  readonly partition: string;
  readonly fips: boolean;
  /** The registry's account (ecr-registry only). */
  readonly account?: string;
}

const GLOBAL_STS = 'sts.amazonaws.com';
const SUFFIX = String.raw`(amazonaws\.com(?:\.cn)?|amazonaws\.eu)`;
const REGION = String.raw`([a-z]{2,4}(?:-[a-z]+)+-\d+)`;
const PATTERNS: readonly [AwsService, RegExp][] = [
  ['sts', new RegExp(`^sts(-fips)?\\.${REGION}\\.${SUFFIX}$`)],
  ['ecr-api', new RegExp(`^(?:api\\.ecr|ecr(-fips))\\.${REGION}\\.${SUFFIX}$`)],
  ['ecr-registry', new RegExp(`^(\\d{12})\\.dkr\\.ecr(-fips)?\\.${REGION}\\.${SUFFIX}$`)],
];

/** The partition id and DNS suffix of a region, by the SDK (which answers `aws` for a region it does not know). */
export function partitionOf(region: string): { id: string; dnsSuffix: string } {
  const p = partition(region);
  return { id: p.name, dnsSuffix: p.dnsSuffix };
}

/** Parses an AWS endpoint host; undefined when it is no host the stand-ins serve, or its suffix is not its region's. */
export function parseAwsHost(hostHeader: string): AwsHost | undefined {
  const host = hostHeader.replace(/:\d+$/, '').toLowerCase();
  // The global STS endpoint: commercial partition, signed for us-east-1.
  if (host === GLOBAL_STS) return { service: 'sts', region: 'us-east-1', partition: 'aws', fips: false };
  for (const [service, re] of PATTERNS) {
    const m = re.exec(host);
    if (!m) continue;
    const [account, fips, region, suffix] = service === 'ecr-registry' ? [m[1], m[2], m[3], m[4]] : [undefined, m[1], m[2], m[3]];
    const p = partitionOf(region);
    if (p.dnsSuffix !== suffix) return undefined;
    return { service, region, partition: p.id, fips: fips !== undefined, account };
  }
  return undefined;
}

/** Host names to put into the stand-ins' TLS certificate: every endpoint of these regions. */
export function certificateNames(regions: Iterable<string>, extra: Iterable<string> = []): string[] {
  const names = new Set<string>([GLOBAL_STS, ...extra]);
  for (const region of regions) {
    const p = partitionOf(region);
    for (const name of [`sts.${region}`, `sts-fips.${region}`, `api.ecr.${region}`, `ecr-fips.${region}`, `*.dkr.ecr.${region}`, `*.dkr.ecr-fips.${region}`]) {
      names.add(`${name}.${p.dnsSuffix}`);
    }
  }
  return [...names];
}
