/**
 * A config unlike the example: both trust paths in all four partitions, several targets in one
 * account (the build account included), an imported provider, a role path and a custom audience.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { tempDir } from '../support/config-fixture';

export const OUTBOUND_ISSUER = 'https://0f1e2d3c-aaaa-bbbb-cccc-444455556666.tokens.sts.global.api.aws';
export const CLUSTER_ISSUER = 'https://oidc.eks.us-east-2.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF';
export const OUTBOUND_AUDIENCE = 'ferry-outbound';
export const TOKEN_SECONDS = 900;
/** The eusc account already has a provider for the outbound issuer. */
export const EUSC_PROVIDER = `arn:aws-eusc:iam::666666666666:oidc-provider/${OUTBOUND_ISSUER.slice('https://'.length)}`;

type Files = Record<string, Record<string, unknown>>;

export function unseenFiles(): Files {
  return {
    'build.yaml': {
      partition: 'aws',
      name: 'ci',
      account: '111111111111',
      region: 'us-east-2',
      rolePath: '/ferry/ci/',
      cluster: { issuerUrl: CLUSTER_ISSUER, namespace: 'delivery' },
      outboundFederation: { issuerUrl: OUTBOUND_ISSUER, audience: OUTBOUND_AUDIENCE, tokenDurationSeconds: TOKEN_SECONDS },
    },
    'shared.yaml': { repositories: [{ name: 'team/app' }, { name: 'team/tool' }], cacheRepository: 'team/cache' },
    // Listed out of partition order on purpose: file order is alphabetical (aws-cn first).
    'aws.yaml': {
      partition: 'aws',
      destinations: [
        // In the build account: its pusher role is its own source role; it imports the build's provider.
        { name: 'same-account', account: '111111111111', region: 'eu-west-1', rolePath: '/dst/' },
        { name: 'com-a', account: '444444444444', region: 'us-west-2' },
        { name: 'com-b', account: '444444444444', region: 'eu-central-1' },
      ],
    },
    'aws-cn.yaml': {
      partition: 'aws-cn',
      destinations: [
        { name: 'cn-a', account: '333333333333', region: 'cn-north-1', trust: 'outbound-federation', synthesizer: 'cli-credentials' },
        { name: 'cn-b', account: '333333333333', region: 'cn-northwest-1', trust: 'outbound-federation' },
        { name: 'cn-c', account: '555555555555', region: 'cn-north-1' },
      ],
    },
    'aws-us-gov.yaml': {
      partition: 'aws-us-gov',
      destinations: [
        { name: 'gov-a', account: '222222222222', region: 'us-gov-west-1' },
        // Same account, the other path: a second issuer, so a second provider of its own.
        { name: 'gov-b', account: '222222222222', region: 'us-gov-east-1', trust: 'outbound-federation' },
      ],
    },
    'aws-eusc.yaml': {
      partition: 'aws-eusc',
      destinations: [{ name: 'eusc-a', account: '666666666666', region: 'eusc-de-east-1', trust: 'outbound-federation', oidcProviderArn: EUSC_PROVIDER }],
    },
  };
}

/** Writes files into a fresh directory; `edit` may change them first. */
export function writeUnseenConfig(edit: (files: Files) => void = () => {}): string {
  const files = unseenFiles();
  edit(files);
  const dir = tempDir('ferry-unseen-');
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), stringify(content));
  return dir;
}
