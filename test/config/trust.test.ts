/**
 * What the config refuses about the trust paths and imported providers, one line each, before AWS
 * would refuse it at deploy or push time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../lib/config/load';
import { ConfigError } from '../../lib/config/problems';
import { copyExampleConfig, editConfig, writeConfig } from '../support/config-fixture';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** The problem lines of a broken copy of the example config, with the temp dir shown as `config`. */
function problems(edit: (dir: string) => void): string[] {
  const dir = copyExampleConfig();
  dirs.push(dir);
  edit(dir);
  try {
    loadConfig(dir);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.message.split('\n').map((line) => line.split(path.relative(process.cwd(), dir)).join('config'));
  }
  throw new Error('expected the config to be rejected');
}

const ENABLE =
  'enable outbound identity federation once in the build account with `aws iam enable-outbound-web-identity-federation` and set the IssuerIdentifier it prints, or read it back with `aws iam get-outbound-web-identity-federation-info`';
const OUTBOUND_HOST = 'a1b2c3d4-5678-90ab-cdef-111111111111.tokens.sts.global.api.aws';
const CLUSTER_HOST_PATH = 'oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';

/** build.yaml imports the provider `arn` instead of creating one (the example's commented-out line, set). */
function importBuildProvider(dir: string, arn: string): void {
  editConfig(dir, 'build.yaml', `# oidcProviderArn: arn:aws:iam::111111111111:oidc-provider/${CLUSTER_HOST_PATH}`, `oidcProviderArn: ${arn}`);
}

test('outbound-federation without outboundFederation.issuerUrl names the destination and how to get the issuer', () => {
  const lines = problems((dir) => editConfig(dir, 'build.yaml', /\noutboundFederation:\n {2}issuerUrl: .*\n/, '\n'));
  expect(lines).toEqual([
    `config/build.yaml:4: outboundFederation.issuerUrl: missing (required: china at config/aws-cn.yaml:5 uses trust: outbound-federation; ${ENABLE})`,
  ]);
});

test('the same, with several such destinations, is still one line', () => {
  const lines = problems((dir) => {
    editConfig(dir, 'build.yaml', /\noutboundFederation:\n {2}issuerUrl: .*\n/, '\n');
    editConfig(dir, 'aws-us-gov.yaml', 'synthesizer: cli-credentials', 'synthesizer: cli-credentials\n    trust: outbound-federation');
  });
  expect(lines).toEqual([
    `config/build.yaml:4: outboundFederation.issuerUrl: missing (required: china at config/aws-cn.yaml:5 and 1 more uses trust: outbound-federation; ${ENABLE})`,
  ]);
});

test('outbound-federation is refused, with the reason, for a destination in the build partition', () => {
  const lines = problems((dir) =>
    writeConfig(
      dir,
      'aws.yaml',
      'partition: aws\ndestinations:\n  - name: eu\n    account: "444444444444"\n    region: eu-west-1\n    trust: outbound-federation\n',
    ),
  );
  expect(lines).toEqual([
    'config/aws.yaml:6: destinations[0].trust = "outbound-federation": is refused in partition aws, the build account\'s own: STS does not accept an outbound web identity token in the partition that issued it (use trust: cluster-oidc here; outbound-federation is for destinations in another partition)',
  ]);
});

test('an issuer with a port, which IAM refuses as a provider URL', () => {
  const lines = problems((dir) => editConfig(dir, 'build.yaml', `issuerUrl: https://${OUTBOUND_HOST}`, `issuerUrl: https://${OUTBOUND_HOST}:443`));
  expect(lines).toEqual([
    `config/build.yaml:21: outboundFederation.issuerUrl = "https://${OUTBOUND_HOST}:443": has a port, which IAM refuses in an OIDC provider URL (expected https://host or https://host/path)`,
  ]);
});

test('an issuer longer than IAM allows', () => {
  const long = `https://oidc.example.com/${'x'.repeat(240)}`;
  const lines = problems((dir) => editConfig(dir, 'build.yaml', /issuerUrl: https:\/\/oidc\.eks\S+/, `issuerUrl: ${long}`));
  // The loader shortens long values in messages; the field, the line and the reason are what matter.
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    /^config\/build\.yaml:9: cluster\.issuerUrl = "https:\/\/oidc\.example\.com\/x+.*: is longer than the 255 characters IAM allows for an OIDC provider URL$/,
  );
});

test('an audience longer than an IAM client ID may be', () => {
  const audience = 'a'.repeat(256);
  const lines = problems((dir) =>
    editConfig(dir, 'build.yaml', `issuerUrl: https://${OUTBOUND_HOST}`, `issuerUrl: https://${OUTBOUND_HOST}\n  audience: ${audience}`),
  );
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    /^config\/build\.yaml:22: outboundFederation\.audience = "a+.*: is longer than the 255 characters IAM allows for an OIDC provider's client ID \(use a shorter audience, e\.g\. sts\.amazonaws\.com\)$/,
  );
});

test('the outbound issuer cannot be the cluster issuer', () => {
  const lines = problems((dir) => editConfig(dir, 'build.yaml', `issuerUrl: https://${OUTBOUND_HOST}`, `issuerUrl: https://${CLUSTER_HOST_PATH}`));
  expect(lines).toEqual([
    `config/build.yaml:21: outboundFederation.issuerUrl = "https://${CLUSTER_HOST_PATH}": is the cluster's OIDC issuer (expected the build account's outbound issuer: ${ENABLE})`,
  ]);
});

describe('an imported provider must be the one for the issuer the role trusts', () => {
  test('a cluster-oidc target importing a provider of another issuer', () => {
    const arn = 'arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/OTHER';
    const lines = problems((dir) => importBuildProvider(dir, arn));
    expect(lines).toEqual([
      `config/build.yaml:13: oidcProviderArn = "${arn}": is a provider for oidc.eks.us-west-2.amazonaws.com/id/OTHER, not for the cluster's issuer (cluster.issuerUrl), which this role trusts (expected an ARN ending oidc-provider/${CLUSTER_HOST_PATH})`,
    ]);
  });

  test("an outbound-federation destination importing the cluster issuer's provider", () => {
    const arn = `arn:aws-cn:iam::333333333333:oidc-provider/${CLUSTER_HOST_PATH}`;
    const lines = problems((dir) => editConfig(dir, 'aws-cn.yaml', 'trust: outbound-federation', `trust: outbound-federation\n    oidcProviderArn: ${arn}`));
    expect(lines).toEqual([
      `config/aws-cn.yaml:12: destinations[0].oidcProviderArn = "${arn}": is a provider for ${CLUSTER_HOST_PATH}, not for the build account's outbound issuer (outboundFederation.issuerUrl), which this destination's role trusts (expected an ARN ending oidc-provider/${OUTBOUND_HOST})`,
    ]);
  });

  test('the right provider is accepted on either path', () => {
    const dir = copyExampleConfig();
    dirs.push(dir);
    editConfig(
      dir,
      'aws-cn.yaml',
      'trust: outbound-federation',
      `trust: outbound-federation\n    oidcProviderArn: arn:aws-cn:iam::333333333333:oidc-provider/${OUTBOUND_HOST}`,
    );
    editConfig(dir, 'build.yaml', '# oidcProviderArn:', 'oidcProviderArn:');
    expect(loadConfig(dir).destinations.find((d) => d.name === 'china')?.oidcProviderArn).toBe(`arn:aws-cn:iam::333333333333:oidc-provider/${OUTBOUND_HOST}`);
  });
});

test('an outboundFederation block without issuerUrl says how to get the issuer', () => {
  const lines = problems((dir) => editConfig(dir, 'build.yaml', /\n {2}issuerUrl: https:\/\/a1b2c3d4\S+/, '\n  audience: sts.amazonaws.com'));
  expect(lines).toEqual([
    "config/build.yaml:21: outboundFederation.issuerUrl: missing (required: the build account's outbound web identity issuer, e.g. https://abcd1234.tokens.sts.global.api.aws, which `aws iam enable-outbound-web-identity-federation` prints once and `aws iam get-outbound-web-identity-federation-info` reads back)",
  ]);
});

test('an imported provider of another account is reported once, not also for its issuer', () => {
  const arn = 'arn:aws:iam::999999999999:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/OTHER';
  const lines = problems((dir) => importBuildProvider(dir, arn));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^config\/build\.yaml:13: oidcProviderArn = "arn:aws:iam::999999999999:.*arn:aws:iam::111111111111:oidc-provider\//);
});
