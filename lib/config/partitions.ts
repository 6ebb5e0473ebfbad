/**
 * The one table of AWS partition facts. Everything partition-specific (DNS suffixes,
 * region shapes, ECR hosts, ARN prefixes) is derived from here, never written inline.
 *
 * Source: partitions.json in the AWS SDKs (@aws-sdk/util-endpoints), checked Nov 2026.
 * Kept as a literal table rather than read from the SDK at run time because the pusher
 * image does not ship the SDK's endpoint internals and the table must be reviewable.
 *
 * This module has no dependencies so that the `ferry push` runtime can import it.
 */

export interface PartitionFacts {
  /** The partition id as it appears in ARNs. */
  readonly id: string;
  /** Human name for messages and docs. */
  readonly title: string;
  /** DNS suffix of regional endpoints, e.g. ECR `<acct>.dkr.ecr.<region>.<suffix>`. */
  readonly dnsSuffix: string;
  /** Every region of the partition matches this. */
  readonly regionPattern: RegExp;
  /** A region to show in examples and error hints. */
  readonly exampleRegion: string;
  /**
   * Whether ferry can deliver here with IRSA. The isolated partitions cannot reach a
   * public OIDC issuer's JWKS, so a role there can never trust the build cluster.
   */
  readonly supported: boolean;
}

const table: readonly PartitionFacts[] = [
  {
    id: 'aws',
    title: 'AWS commercial',
    dnsSuffix: 'amazonaws.com',
    regionPattern: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/,
    exampleRegion: 'us-east-1',
    supported: true,
  },
  {
    id: 'aws-us-gov',
    title: 'AWS GovCloud (US)',
    dnsSuffix: 'amazonaws.com',
    regionPattern: /^us-gov-\w+-\d+$/,
    exampleRegion: 'us-gov-west-1',
    supported: true,
  },
  { id: 'aws-cn', title: 'AWS China', dnsSuffix: 'amazonaws.com.cn', regionPattern: /^cn-\w+-\d+$/, exampleRegion: 'cn-north-1', supported: true },
  {
    id: 'aws-eusc',
    title: 'AWS European Sovereign Cloud',
    dnsSuffix: 'amazonaws.eu',
    regionPattern: /^eusc-(de)-\w+-\d+$/,
    exampleRegion: 'eusc-de-east-1',
    supported: true,
  },
  { id: 'aws-iso', title: 'AWS ISO (C2S)', dnsSuffix: 'c2s.ic.gov', regionPattern: /^us-iso-\w+-\d+$/, exampleRegion: 'us-iso-east-1', supported: false },
  {
    id: 'aws-iso-b',
    title: 'AWS ISOB (SC2S)',
    dnsSuffix: 'sc2s.sgov.gov',
    regionPattern: /^us-isob-\w+-\d+$/,
    exampleRegion: 'us-isob-east-1',
    supported: false,
  },
  { id: 'aws-iso-e', title: 'AWS ISOE', dnsSuffix: 'cloud.adc-e.uk', regionPattern: /^eu-isoe-\w+-\d+$/, exampleRegion: 'eu-isoe-west-1', supported: false },
  { id: 'aws-iso-f', title: 'AWS ISOF', dnsSuffix: 'csp.hci.ic.gov', regionPattern: /^us-isof-\w+-\d+$/, exampleRegion: 'us-isof-east-1', supported: false },
];

export const PARTITIONS: ReadonlyMap<string, PartitionFacts> = new Map(table.map((p) => [p.id, p]));

/** Partition ids ferry delivers to, in table order. */
export const SUPPORTED_PARTITION_IDS: readonly string[] = table.filter((p) => p.supported).map((p) => p.id);

export function partition(id: string): PartitionFacts {
  const facts = PARTITIONS.get(id);
  if (!facts) throw new Error(`unknown partition "${id}"; valid: ${[...PARTITIONS.keys()].join(', ')}`);
  return facts;
}

/** The partition a region belongs to, or undefined for a region no partition knows. */
export function partitionOfRegion(region: string): PartitionFacts | undefined {
  // GovCloud regions also match the commercial `us-` shape, so test the specific patterns first.
  const specificFirst = [...table].sort((a, b) => Number(a.id === 'aws') - Number(b.id === 'aws'));
  return specificFirst.find((p) => p.regionPattern.test(region));
}

/**
 * The US commercial regions where AWS runs FIPS endpoints of STS (`sts-fips.<region>`) and ECR
 * (`ecr-fips.<region>`, `dkr.ecr-fips.<region>`): AWS General Reference, "AWS Security Token
 * Service endpoints and quotas" and "Amazon ECR endpoints and quotas" (checked Nov 2026). Written
 * here because the SDK cannot answer it: its partition data says `supportsFIPS` for every
 * partition, and its STS and ECR endpoint rules build a FIPS host name for any region.
 */
const US_COMMERCIAL_FIPS_REGIONS: readonly string[] = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2'];

/**
 * Where AWS runs a FIPS endpoint of STS and ECR: the four US commercial regions, and every
 * GovCloud region (its regional STS endpoints are FIPS endpoints themselves,
 * https://aws.amazon.com/compliance/fips/). None in aws-cn or aws-eusc.
 */
export function hasFipsEndpoint(region: string): boolean {
  const id = partitionOfRegion(region)?.id;
  return id === 'aws-us-gov' || (id === 'aws' && US_COMMERCIAL_FIPS_REGIONS.includes(region));
}

export function regionInPartition(region: string, partitionId: string): boolean {
  return partitionOfRegion(region)?.id === partitionId;
}

/** `arn:<partition>:`: the only way ferry starts an ARN. */
export function arnPrefix(partitionId: string): string {
  return `arn:${partition(partitionId).id}:`;
}

export interface EcrRegistry {
  readonly account: string;
  readonly region: string;
  readonly partition: PartitionFacts;
  readonly fips: boolean;
}

/** `<account>.dkr.ecr[-fips].<region>.<dnsSuffix>` */
export function ecrRegistryHost(account: string, region: string, opts: { fips?: boolean } = {}): string {
  const facts = partitionOfRegion(region);
  if (!facts) throw new Error(`region "${region}" is in no known partition`);
  return `${account}.dkr.ecr${opts.fips ? '-fips' : ''}.${region}.${facts.dnsSuffix}`;
}

const ECR_HOST = /^(\d{12})\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.([a-z0-9.-]+?)(?::\d+)?$/;

/** Recognises an ECR registry host in any partition, or returns undefined. */
export function parseEcrHost(host: string): EcrRegistry | undefined {
  const m = ECR_HOST.exec(host.toLowerCase());
  if (!m) return undefined;
  const [, account, fips, region, suffix] = m;
  const facts = partitionOfRegion(region);
  if (!facts || facts.dnsSuffix !== suffix) return undefined;
  return { account, region, partition: facts, fips: fips !== undefined };
}
