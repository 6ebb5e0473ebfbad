/**
 * Which regions exist, from the AWS SDK's own partition data (partitions.json, which the SDK's
 * endpoint resolver uses and which AWS updates with every new region), and where ECR offers FIPS
 * endpoints. Used by config validation only: the pusher runtime does not import this module.
 *
 * The SDK exports no accessor for the region list (its `partition()` function answers for any
 * name that has a region's shape), so the data module is read from the installed @aws-sdk/core.
 * A test fails if an SDK upgrade moves it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { editDistance } from './problems';

export interface SdkPartition {
  readonly id: string;
  readonly outputs: { readonly dnsSuffix: string };
  readonly regionRegex: string;
  readonly regions: Record<string, { description?: string } | undefined>;
}

const PARTITIONS_MODULE = 'dist-es/submodules/client/util-endpoints/lib/aws/partitions.js';

let partitionsCache: readonly SdkPartition[] | undefined;
let regionsCache: ReadonlyMap<string, readonly string[]> | undefined;

/** The installed AWS SDK's partitions.json. */
export function sdkPartitions(): readonly SdkPartition[] {
  if (partitionsCache) return partitionsCache;
  const file = path.join(path.dirname(require.resolve('@aws-sdk/core/package.json')), PARTITIONS_MODULE);
  const text = fs.readFileSync(file, 'utf8');
  // The module is one object literal in JSON syntax: `export const partitionsInfo = {...};`
  partitionsCache = (JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)) as { partitions: SdkPartition[] }).partitions;
  return partitionsCache;
}

/** Every region of every partition the installed AWS SDK knows, by partition id. */
export function sdkRegions(): ReadonlyMap<string, readonly string[]> {
  // Pseudo-regions such as aws-global do not have a region's shape; they are not deploy targets.
  regionsCache ??= new Map(
    sdkPartitions().map((p) => [
      p.id,
      Object.keys(p.regions)
        .filter((r) => new RegExp(p.regionRegex).test(r))
        .sort(),
    ]),
  );
  return regionsCache;
}

export function isKnownRegion(region: string, partitionId: string): boolean {
  return sdkRegions().get(partitionId)?.includes(region) ?? false;
}

/** The known region of a partition nearest to a name as typed, e.g. cn-north-9 -> cn-north-1. */
export function closestRegion(region: string, partitionId: string): string | undefined {
  const candidates = sdkRegions().get(partitionId) ?? [];
  let best: { region: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(region, candidate);
    if (!best || distance < best.distance) best = { region: candidate, distance };
  }
  return best?.region;
}

/**
 * Regions where ECR has FIPS endpoints (`ecr-fips.<region>` and `dkr.ecr-fips.<region>`), as listed
 * on AWS's "Amazon Elastic Container Registry endpoints and quotas" page (General Reference): the
 * four US commercial regions and both GovCloud regions. Neither the SDK's partition data (it says
 * supportsFIPS for every partition) nor ECR's endpoint rules know per-region availability, so this
 * one list is kept here, with its source.
 */
export const ECR_FIPS_REGIONS: readonly string[] = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'us-gov-east-1', 'us-gov-west-1'];

export function hasEcrFipsEndpoint(region: string): boolean {
  return ECR_FIPS_REGIONS.includes(region);
}
