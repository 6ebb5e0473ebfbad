import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIG_REFERENCE_DOC, renderReference, renderSchemas, SCHEMA_DIR, withReference } from '../../lib/config/json-schema';
import { loadConfig } from '../../lib/config/load';
import { ConfigError } from '../../lib/config/problems';
import { DEFAULTS } from '../../lib/config/schema';
import { copyExampleConfig, EXAMPLE_CONFIG, editConfig, writeConfig } from '../support/config-fixture';

/** The problem lines loading `dir` reports, with the temp dir shown as `config`. */
function problemsOf(dir: string): string[] {
  try {
    loadConfig(dir);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const shown = path.relative(process.cwd(), configRoot(dir));
    return e.message.split('\n').map((line) => line.split(shown).join('config'));
  }
  throw new Error('expected the config to be rejected');
}

/** The config copy a path is in: the temp dir directly under the system temp dir. */
function configRoot(dir: string): string {
  return dir.endsWith('nope') ? path.dirname(dir) : dir;
}

function brokenCopy(file: string, from: string | RegExp, to: string): string {
  const dir = copyExampleConfig();
  editConfig(dir, file, from, to);
  return dir;
}

describe('the example config', () => {
  const config = loadConfig(EXAMPLE_CONFIG);

  test('has the commercial build account and the GovCloud and China destinations', () => {
    expect(config.build).toMatchObject({ kind: 'build', name: 'build', account: '111111111111', region: 'us-east-1' });
    expect(config.build.partition.id).toBe('aws');
    expect(config.destinations.map((d) => [d.name, d.partition.id, d.region])).toEqual([
      ['china', 'aws-cn', 'cn-north-1'],
      ['govcloud', 'aws-us-gov', 'us-gov-west-1'],
    ]);
  });

  test('applies the documented defaults', () => {
    expect(config.cluster.audience).toBe('sts.amazonaws.com');
    expect(config.repositories[0]).toEqual({ name: 'ferry/demo-app', tagMutability: 'IMMUTABLE_WITH_EXCLUSION', tagMutabilityExclusions: ['latest'] });
    expect(config.untaggedImageExpiryDays).toBe(14);
    expect(config.cacheRepository).toBe('ferry/kaniko-cache');
    expect(config.destinations.every((d) => d.synthesizer === 'cli-credentials')).toBe(true);
    expect(config.build.synthesizer).toBe('bootstrapped');
    expect(config.slack).toEqual({ secretName: 'ferry-slack-webhook', secretKey: 'url' });
  });

  test('every file points editors at the committed JSON Schema for its kind', () => {
    const expected: Record<string, string> = { 'build.yaml': 'build', 'shared.yaml': 'shared' };
    for (const name of fs.readdirSync(EXAMPLE_CONFIG).filter((n) => n.endsWith('.yaml'))) {
      const first = fs.readFileSync(path.join(EXAMPLE_CONFIG, name), 'utf8').split('\n')[0];
      expect(first).toBe(`# yaml-language-server: $schema=./schema/${expected[name] ?? 'partition'}.schema.json`);
    }
  });

  test('the committed JSON Schemas are the ones the zod schemas generate (run `npm run schema` when this fails)', () => {
    for (const [file, text] of Object.entries(renderSchemas())) {
      expect(fs.readFileSync(path.join(SCHEMA_DIR, file), 'utf8')).toBe(text);
    }
  });

  test('docs/configuration.md documents every config field (run `npm run schema` when this fails)', () => {
    const page = fs.readFileSync(CONFIG_REFERENCE_DOC, 'utf8');
    expect(page).toBe(withReference(page));
    for (const field of ['cluster.issuerUrl', 'destinations[].synthesizer', 'workspace.accessMode', 'notifications.slack.secretName']) {
      expect(page).toContain(`| \`${field}\` |`);
    }
  });

  test('defaults live in the schema: editors see them as `default`, and no description repeats one by hand', () => {
    const build = JSON.parse(renderSchemas()['build.schema.json']);
    const shared = JSON.parse(renderSchemas()['shared.schema.json']);
    expect(build.properties.rolePath.default).toBe(DEFAULTS.rolePath);
    expect(build.properties.cluster.properties.audience.default).toBe(DEFAULTS.audience);
    expect(shared.properties.repositories.items.properties.tagMutability.default).toBe(DEFAULTS.tagMutability);
    expect(shared.properties.sync.properties.schedule.default).toBe(DEFAULTS.sync.schedule);
    expect(shared.properties.images.properties.kaniko.default).toBe(DEFAULTS.images.kaniko);
    for (const text of Object.values(renderSchemas())) expect(text).not.toMatch(/Default:/);
    expect(renderReference()).toContain(`| \`${DEFAULTS.untaggedImageExpiryDays}\` |`);
  });

  test('the resolved config is what the schema outputs: every default applied, nothing left undefined', () => {
    expect(config.sync).toEqual(DEFAULTS.sync);
    expect(config.workspace).toEqual(DEFAULTS.workspace);
    expect(config.images).toEqual(DEFAULTS.images);
    expect(config.outboundFederation).toEqual({
      issuerUrl: 'https://a1b2c3d4-5678-90ab-cdef-111111111111.tokens.sts.global.api.aws',
      ...DEFAULTS.outboundFederation,
    });
    expect(config.destinations.map((d) => d.trust)).toEqual(['outbound-federation', DEFAULTS.trust]);
    expect(config.build).toMatchObject({ trust: DEFAULTS.trust, fips: DEFAULTS.fips, rolePath: DEFAULTS.rolePath, tags: { owner: 'platform' } });
  });

  test('the JSON Schema lists the supported partitions for completion', () => {
    const schema = JSON.parse(renderSchemas()['partition.schema.json']);
    expect(schema.properties.partition.enum).toEqual(['aws', 'aws-us-gov', 'aws-cn', 'aws-eusc']);
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('a bad config gets one line per problem naming file, line, field, value and fix', () => {
  test('an unquoted account ID, which YAML reads as a number without its leading zero', () => {
    const dir = brokenCopy('aws-us-gov.yaml', 'account: "222222222222"', 'account: 022222222222');
    expect(problemsOf(dir)).toEqual([
      'config/aws-us-gov.yaml:6: destinations[0].account = 022222222222: is an unquoted YAML number, and numbers lose leading zeros (write the 12-digit account ID in quotes, e.g. account: "012345678901")',
    ]);
  });

  test('an account ID that is not 12 digits', () => {
    const dir = brokenCopy('build.yaml', 'account: "111111111111"', 'account: "11111111111"');
    expect(problemsOf(dir)).toEqual([
      'config/build.yaml:6: account = "11111111111": is not a 12-digit account ID (expected a 12-digit AWS account ID in quotes, e.g. "123456789012")',
    ]);
  });

  test('a region of another partition', () => {
    const dir = brokenCopy('aws-us-gov.yaml', 'region: us-gov-west-1', 'region: us-east-1');
    expect(problemsOf(dir)).toEqual([
      'config/aws-us-gov.yaml:7: destinations[0].region = "us-east-1": is a region of partition aws, not aws-us-gov (expected a region of aws-us-gov, e.g. us-gov-east-1; move the target to the file of its partition if the region is right)',
    ]);
  });

  test('an unknown partition', () => {
    const dir = brokenCopy('aws-cn.yaml', 'partition: aws-cn', 'partition: aws-china');
    expect(problemsOf(dir)).toEqual(['config/aws-cn.yaml:3: partition = "aws-china": is not a known partition (valid: aws, aws-us-gov, aws-cn, aws-eusc)']);
  });

  test('an isolated partition, where IRSA cannot work', () => {
    const dir = brokenCopy('aws-cn.yaml', 'partition: aws-cn', 'partition: aws-iso');
    expect(problemsOf(dir)).toEqual([
      'config/aws-cn.yaml:3: partition = "aws-iso": is an isolated partition that cannot reach a public OIDC issuer, so IRSA cannot work there (supported: aws, aws-us-gov, aws-cn, aws-eusc)',
    ]);
  });

  test('an issuer URL that is not https', () => {
    const dir = brokenCopy('build.yaml', 'issuerUrl: https://', 'issuerUrl: http://');
    expect(problemsOf(dir)).toEqual([
      'config/build.yaml:9: cluster.issuerUrl = "http://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE": is not an https URL (expected the EKS OIDC issuer, e.g. https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE; IAM only trusts https issuers)',
    ]);
  });

  test('a destination listed twice, in another file', () => {
    const dir = copyExampleConfig();
    writeConfig(
      dir,
      'aws-eusc.yaml',
      'partition: aws-us-gov\ndestinations:\n  - name: govcloud-again\n    account: "222222222222"\n    region: us-gov-west-1\n',
    );
    expect(problemsOf(dir)).toEqual([
      'config/aws-us-gov.yaml:3: partition = "aws-us-gov": is already configured in config/aws-eusc.yaml (keep one file per partition)',
      'config/aws-us-gov.yaml:6: destinations[0].account = "222222222222": with region us-gov-west-1 is listed twice: already at config/aws-eusc.yaml:3 (list each account and region once)',
    ]);
  });

  test('a name used twice', () => {
    const dir = brokenCopy('aws-cn.yaml', 'name: china', 'name: govcloud');
    expect(problemsOf(dir)).toEqual([
      'config/aws-us-gov.yaml:5: destinations[0].name = "govcloud": is already used by config/aws-cn.yaml:5 (every name must be unique: it becomes the stack, role and ServiceAccount name)',
    ]);
  });

  test('a repository name ECR rejects', () => {
    const dir = brokenCopy('shared.yaml', 'name: ferry/demo-app', 'name: Ferry/Demo_App/');
    expect(problemsOf(dir)).toEqual([
      'config/shared.yaml:4: repositories[0].name = "Ferry/Demo_App/": is not a name ECR accepts (expected 2-256 characters of lowercase letters, digits, and . _ - / between them, e.g. team/app)',
    ]);
  });

  test('a missing required field', () => {
    const dir = brokenCopy('aws-cn.yaml', /\n {4}account: "333333333333"/, '');
    expect(problemsOf(dir)).toEqual([
      'config/aws-cn.yaml:5: destinations[0].account: missing (required: a 12-digit AWS account ID in quotes, e.g. "123456789012")',
    ]);
  });

  test('an unknown key, with the key it probably meant', () => {
    const dir = brokenCopy('aws-us-gov.yaml', 'region: us-gov-west-1', 'regoin: us-gov-west-1');
    expect(problemsOf(dir)).toEqual([
      'config/aws-us-gov.yaml:5: destinations[0].region: missing (required: an AWS region, e.g. us-east-1)',
      'config/aws-us-gov.yaml:7: destinations[0].regoin: unknown key (did you mean "region"?)',
    ]);
  });

  test('an unknown key with no close match', () => {
    const dir = brokenCopy('shared.yaml', 'repositories:', 'colour: blue\nrepositories:');
    expect(problemsOf(dir)).toEqual(['config/shared.yaml:3: colour: unknown key (remove it; see docs/configuration.md)']);
  });

  test('an ARN of another partition', () => {
    const dir = brokenCopy('aws-us-gov.yaml', '    synthesizer:', '    kmsKeyArn: arn:aws:kms:us-gov-west-1:222222222222:key/abcd\n    synthesizer:');
    expect(problemsOf(dir)).toEqual([
      'config/aws-us-gov.yaml:9: destinations[0].kmsKeyArn = "arn:aws:kms:us-gov-west-1:222222222222:key/abcd": does not belong to this account and partition (expected an ARN starting arn:aws-us-gov:kms:us-gov-west-1:222222222222:key/)',
    ]);
  });

  test('every problem in every file is reported in one run', () => {
    const dir = brokenCopy('aws-cn.yaml', 'region: cn-north-1', 'region: cn-nowhere');
    editConfig(dir, 'build.yaml', 'namespace: ci', 'namespace: CI');
    expect(problemsOf(dir)).toHaveLength(2);
  });

  test('invalid YAML', () => {
    const dir = brokenCopy('shared.yaml', 'repositories:', 'repositories: [');
    expect(problemsOf(dir)[0]).toMatch(/^config\/shared\.yaml:4: is not valid YAML \(Block collections are not allowed within flow collections\)$/);
  });

  test('a directory without build.yaml', () => {
    const dir = copyExampleConfig();
    fs.rmSync(path.join(dir, 'build.yaml'));
    expect(problemsOf(dir)).toEqual([
      'config/build.yaml: missing file (every config directory needs build.yaml and shared.yaml; see config/ in the ferry repository)',
    ]);
  });

  test('a config directory that does not exist', () => {
    const dir = path.join(copyExampleConfig(), 'nope');
    expect(problemsOf(dir)).toEqual([
      'config/nope: is not a config directory (set FERRY_CONFIG or -c config=<dir> to a directory holding build.yaml and shared.yaml)',
    ]);
  });
});
