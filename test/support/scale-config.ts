/**
 * Generated configs of N repositories x M destinations, spread over all four partitions and both
 * trust paths: what the scale tests and `npm run bench:synth` synthesize.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { tempDir } from './config-fixture';

export interface ScaleConfig {
  readonly repositories: number;
  readonly destinations: number;
  /** The synthesizer of every target. @default 'bootstrapped' */
  readonly synthesizer?: 'bootstrapped' | 'cli-credentials';
}

/** Partition, regions and trust path of the n-th destination: GovCloud, China, EUSC, commercial, in turn. */
const PARTITIONS = [
  { partition: 'aws-us-gov', short: 'gov', regions: ['us-gov-west-1', 'us-gov-east-1'], trust: 'cluster-oidc' },
  { partition: 'aws-cn', short: 'cn', regions: ['cn-north-1', 'cn-northwest-1'], trust: 'outbound-federation' },
  { partition: 'aws-eusc', short: 'eusc', regions: ['eusc-de-east-1'], trust: 'outbound-federation' },
  { partition: 'aws', short: 'com', regions: ['us-west-2', 'eu-west-1', 'ap-southeast-2'], trust: 'cluster-oidc' },
] as const;

/** `team-<k>/service-<i>`: repository names of a realistic length (ARNs of about 75 characters). */
export function scaleRepositoryName(i: number): string {
  return `team-${String(i % 37).padStart(2, '0')}/service-${String(i).padStart(4, '0')}`;
}

/** Writes the config files into `dir` (a fresh temp dir by default) and returns it. */
export function writeScaleConfig(scale: ScaleConfig, dir: string = tempDir('ferry-scale-')): string {
  const synthesizer = scale.synthesizer ?? 'bootstrapped';
  fs.writeFileSync(
    path.join(dir, 'build.yaml'),
    stringify({
      partition: 'aws',
      name: 'build',
      account: '111111111111',
      region: 'us-east-1',
      synthesizer,
      cluster: { issuerUrl: 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE', namespace: 'ci' },
      tags: { owner: 'platform' },
      outboundFederation: { issuerUrl: 'https://a1b2c3d4-5678-90ab-cdef-111111111111.tokens.sts.global.api.aws' },
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'shared.yaml'),
    stringify({ repositories: Array.from({ length: scale.repositories }, (_, i) => ({ name: scaleRepositoryName(i) })) }),
  );
  const files = new Map<string, unknown[]>();
  for (let i = 0; i < scale.destinations; i++) {
    const p = PARTITIONS[i % PARTITIONS.length];
    const round = Math.floor(i / PARTITIONS.length);
    const destination = {
      name: `${p.short}-${String(i + 1).padStart(3, '0')}`,
      account: String(200000000000 + i + 1),
      region: p.regions[round % p.regions.length],
      synthesizer,
      trust: p.trust,
      tags: { owner: 'platform' },
    };
    files.set(p.partition, [...(files.get(p.partition) ?? []), destination]);
  }
  for (const [partition, destinations] of files) fs.writeFileSync(path.join(dir, `${partition}.yaml`), stringify({ partition, destinations }));
  return dir;
}
