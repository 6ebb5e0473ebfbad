/**
 * Every config rule of synth-checks.md, table-driven on the loader: each bad value gives exactly
 * the expected one line (file:line: field = value: what is wrong (what would be valid)), and a
 * sweep of nonsense values over every field proves no raw zod text or regex reaches a user.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { renderSchemas } from '../../lib/config/json-schema';
import { loadConfig } from '../../lib/config/load';
import { ConfigError } from '../../lib/config/problems';
import { copyExampleConfig, writeConfig } from '../support/config-fixture';

type Changes = Record<string, Record<string, unknown> | string>;

/** A copy of the example config with fields set (`'destinations.0.region': 'x'`) or whole files replaced. */
function variant(changes: Changes): string {
  const dir = copyExampleConfig();
  for (const [name, fields] of Object.entries(changes)) {
    if (typeof fields === 'string') {
      writeConfig(dir, name, fields);
      continue;
    }
    const file = path.join(dir, name);
    const doc = parseDocument(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '{}');
    for (const [field, value] of Object.entries(fields))
      doc.setIn(
        field.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)),
        value,
      );
    fs.writeFileSync(file, doc.toString());
  }
  return dir;
}

/** The problem lines, with the temp dir shown as `config`; [] when the config loads. */
function problems(changes: Changes): string[] {
  const dir = variant(changes);
  try {
    loadConfig(dir);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.message.split('\n').map((line) => line.split(path.relative(process.cwd(), dir)).join('config'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const manyTags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`key-${i}`, `value-${i}`]));
const EUSC = 'partition: aws-eusc\ndestinations:\n  - name: sovereign\n    account: "444444444444"\n    region: eusc-de-east-1\n';

const REJECTED: [string, Changes, RegExp][] = [
  [
    "a target name that starts with another target's repository-stack prefix",
    { 'aws-cn.yaml': { 'destinations.0.name': 'govcloud-repositories-2' } },
    /^config\/aws-cn\.yaml:\d+: destinations\[0\]\.name = "govcloud-repositories-2": starts with "govcloud-repositories-", the prefix of the further repository stacks of target govcloud \(config\/aws-us-gov\.yaml:\d+\)/,
  ],
  [
    'an unknown region, with the closest real one',
    { 'aws-cn.yaml': { 'destinations.0.region': 'cn-north-9' } },
    /^config\/aws-cn\.yaml:7: destinations\[0\]\.region = "cn-north-9": is not a region AWS lists for partition aws-cn \(did you mean cn-north-1\? .*allowUnknownRegion: true/,
  ],
  ['an unknown commercial region', { 'build.yaml': { region: 'eu-west-9' } }, /^config\/build\.yaml:\d+: region = "eu-west-9": .*did you mean eu-west-1\?/],
  [
    'a region of another partition',
    { 'aws-us-gov.yaml': { 'destinations.0.region': 'eu-west-1' } },
    /region = "eu-west-1": is a region of partition aws, not aws-us-gov \(expected a region of aws-us-gov/,
  ],
  [
    'a name that is no region at all',
    { 'aws-cn.yaml': { 'destinations.0.region': 'moon' } },
    /region = "moon": is not an AWS region name \(expected e\.g\. us-east-1/,
  ],
  [
    'FIPS in China',
    { 'aws-cn.yaml': { 'destinations.0.fips': true } },
    /destinations\[0\]\.fips = true: ECR has no FIPS endpoint in cn-north-1 \(ECR FIPS endpoints exist only in us-east-1, us-east-2, us-west-1, us-west-2, us-gov-east-1, us-gov-west-1/,
  ],
  [
    'FIPS in a European commercial region',
    { 'build.yaml': { region: 'eu-west-1', fips: true, 'cluster.issuerUrl': 'https://oidc.eks.eu-west-1.amazonaws.com/id/X' } },
    /^config\/build\.yaml:\d+: fips = true: ECR has no FIPS endpoint in eu-west-1/,
  ],
  [
    'FIPS in the European Sovereign Cloud',
    { 'aws-eusc.yaml': `${EUSC}    fips: true\n` },
    /aws-eusc\.yaml:6: destinations\[0\]\.fips = true: ECR has no FIPS endpoint in eusc-de-east-1/,
  ],
  [
    'a tag key with the reserved aws: prefix',
    { 'build.yaml': { 'tags.aws:owner': 'x' } },
    /^config\/build\.yaml:\d+: tags\["aws:owner"\]: starts with aws:, which AWS reserves/,
  ],
  ['the reserved prefix in capitals', { 'build.yaml': { 'tags.AWS:team': 'x' } }, /tags\["AWS:team"\]: starts with aws:/],
  [
    'a tag value with the reserved aws: prefix',
    { 'build.yaml': { 'tags.owner': 'AWS:platform' } },
    /tags\.owner = "AWS:platform": starts with aws:, which AWS reserves in tag keys and values/,
  ],
  [
    'a tag key with a character AWS refuses (not "wrong type")',
    { 'build.yaml': { 'tags.team{x}': 'x' } },
    /tags\["team\{x\}"\]: has characters AWS does not allow in tag keys: "\{" "\}" \(allowed: letters, digits, spaces and _ \. : \/ = \+ - @\)/,
  ],
  [
    'a tag value with a character AWS refuses',
    { 'aws-us-gov.yaml': { 'destinations.0.tags.owner': 'a{b' } },
    /destinations\[0\]\.tags\.owner = "a\{b": has characters AWS does not allow in tag values: "\{"/,
  ],
  ['a tag key of 129 characters', { 'build.yaml': { [`tags.${'k'.repeat(129)}`]: 'x' } }, /: is 129 characters long \(a tag key has 1-128 characters\)/],
  [
    'a tag value of 257 characters',
    { 'build.yaml': { 'tags.owner': 'v'.repeat(257) } },
    /tags\.owner = "v+…: is 257 characters long \(a tag value has at most 256 characters\)/,
  ],
  ['51 tags', { 'build.yaml': { tags: manyTags(51) } }, /^config\/build\.yaml:\d+: tags: has 51 tags \(AWS allows 50 per resource: keep at most 50\)/],
  ['two tag keys IAM treats as one', { 'build.yaml': { 'tags.Owner': 'x' } }, /tags\.Owner: is the same tag key as owner to IAM, which ignores case/],
  ['a tag value YAML reads as a number', { 'build.yaml': { 'tags.cost': 4711 } }, /tags\.cost = 4711: wrong type \(expected a text value; quote numbers/],
  ['tags as a list', { 'build.yaml': { tags: ['owner'] } }, /tags = \["owner"\]: wrong type \(expected a map of tag keys to text values/],
  [
    'a permissions boundary of another account',
    { 'build.yaml': { permissionsBoundaryArn: 'arn:aws:iam::999999999999:policy/boundary' } },
    /permissionsBoundaryArn = "arn:aws:iam::999999999999:policy\/boundary": does not belong to this account and partition \(expected a managed policy of this account, arn:aws:iam::111111111111:policy\/<name>, or one AWS manages, arn:aws:iam::aws:policy\/<name>\)/,
  ],
  [
    'a permissions boundary of another partition',
    { 'aws-cn.yaml': { 'destinations.0.permissionsBoundaryArn': 'arn:aws:iam::aws:policy/PowerUserAccess' } },
    /permissionsBoundaryArn = "arn:aws:iam::aws:policy\/PowerUserAccess": does not belong .*arn:aws-cn:iam::aws:policy/,
  ],
  [
    'a boundary that is a role, not a policy',
    { 'build.yaml': { permissionsBoundaryArn: 'arn:aws:iam::111111111111:role/boundary' } },
    /permissionsBoundaryArn = .*: does not belong to this account and partition/,
  ],
  [
    'a KMS key of another region',
    { 'build.yaml': { kmsKeyArn: 'arn:aws:kms:us-west-2:111111111111:key/abc' } },
    /kmsKeyArn = .*expected an ARN starting arn:aws:kms:us-east-1:111111111111:key\//,
  ],
  [
    'a file that is a list',
    { 'shared.yaml': '- name: ferry/demo-app\n' },
    /^config\/shared\.yaml:1: \(top level\) = \[\{"name":"ferry\/demo-app"\}\]: is a list, but a config file must be a map of fields at the top level/,
  ],
  [
    'a Secret name Kubernetes refuses',
    { 'shared.yaml': { 'notifications.slack.secretName': 'Ferry_Slack' } },
    /notifications\.slack\.secretName = "Ferry_Slack": is not a Kubernetes Secret name \(expected lowercase letters, digits, - and \./,
  ],
  [
    'an expiry of zero days',
    { 'shared.yaml': { untaggedImageExpiryDays: 0 } },
    /untaggedImageExpiryDays = 0: is too small \(expected a whole number from 1 to 3650\)/,
  ],
  [
    'an expiry of half a day',
    { 'shared.yaml': { untaggedImageExpiryDays: 1.5 } },
    /untaggedImageExpiryDays = 1\.5: is not a whole number \(expected a whole number from 1 to 3650\)/,
  ],
  [
    'an expiry written as a word',
    { 'shared.yaml': { untaggedImageExpiryDays: 'ten' } },
    /untaggedImageExpiryDays = "ten": wrong type \(expected a whole number from 1 to 3650\)/,
  ],
  [
    'a token lifetime under a minute',
    { 'build.yaml': { 'outboundFederation.tokenDurationSeconds': 30 } },
    /outboundFederation\.tokenDurationSeconds = 30: is too small \(expected a whole number from 60 to 3600\)/,
  ],
  ['an empty audience', { 'build.yaml': { 'cluster.audience': '' } }, /cluster\.audience = "": is empty \(expected some text\)/],
  [
    'an access mode Kubernetes does not have',
    { 'shared.yaml': { 'workspace.accessMode': 'RWO' } },
    /workspace\.accessMode = "RWO": is not one of the allowed values \(expected one of ReadWriteOnce, ReadWriteMany\)/,
  ],
  ['yes instead of true', { 'shared.yaml': { 'sync.enabled': 'yes' } }, /sync\.enabled = "yes": wrong type: is text \(expected true or false\)/],
  [
    'a cache mutability with exclusions',
    { 'shared.yaml': { cacheTagMutability: 'MUTABLE_WITH_EXCLUSION' } },
    /cacheTagMutability = "MUTABLE_WITH_EXCLUSION": wrong type \(expected MUTABLE or IMMUTABLE\)/,
  ],
  [
    'a tag filter ECR refuses',
    { 'shared.yaml': { 'repositories.0.tagMutabilityExclusions': ['dev{x}'] } },
    /repositories\[0\]\.tagMutabilityExclusions\[0\] = "dev\{x\}": is not a tag filter ECR accepts/,
  ],
  [
    'six tag filters',
    { 'shared.yaml': { 'repositories.0.tagMutabilityExclusions': ['a', 'b', 'c', 'd', 'e', 'f'] } },
    /repositories\[0\]\.tagMutabilityExclusions = .*: has 6 tag filters \(IMMUTABLE_WITH_EXCLUSION needs 1-5; or choose IMMUTABLE\)/,
  ],
  [
    'no tag filter with an exclusion setting',
    { 'shared.yaml': { 'repositories.0.tagMutabilityExclusions': [] } },
    /tagMutabilityExclusions = \[\]: has 0 tag filters/,
  ],
  [
    "a repository named like the pusher image's",
    { 'shared.yaml': { 'repositories.0.name': 'ferry/ferry' } },
    /repositories\[0\]\.name = "ferry\/ferry": is the repository ferry builds its pusher image into/,
  ],
  [
    "the cache named like the pusher image's",
    { 'shared.yaml': { cacheRepository: 'ferry/ferry' } },
    /cacheRepository = "ferry\/ferry": is the repository ferry builds its pusher image into/,
  ],
  ['no repositories', { 'shared.yaml': { repositories: [] } }, /repositories = \[\]: is empty \(list at least one repository\)/],
  [
    'the ROOT prefix',
    { 'shared.yaml': { repositoryPrefixes: [{ prefix: 'ROOT' }] } },
    /repositoryPrefixes\[0\]\.prefix = "ROOT": is ECR's prefix for every repository of the registry/,
  ],
  [
    'a prefix ECR refuses',
    { 'shared.yaml': { repositoryPrefixes: [{ prefix: 'Team-A/' }] } },
    /repositoryPrefixes\[0\]\.prefix = "Team-A\/": is not a repository prefix ECR accepts/,
  ],
  [
    'a prefix twice, once with its slash',
    { 'shared.yaml': { repositoryPrefixes: [{ prefix: 'team-a/' }, { prefix: 'team-a' }] } },
    /repositoryPrefixes\[1\]\.prefix = "team-a": is the same prefix as repositoryPrefixes\[0\]/,
  ],
  [
    'a prefix inside another',
    { 'shared.yaml': { repositoryPrefixes: [{ prefix: 'team-a/' }, { prefix: 'team-a/web/' }] } },
    /repositoryPrefixes\[1\]\.prefix = "team-a\/web\/": is inside repositoryPrefixes\[0\]/,
  ],
  [
    "a prefix covering the pusher image's repository",
    { 'shared.yaml': { repositoryPrefixes: [{ prefix: 'ferry/' }] } },
    /repositoryPrefixes\[0\]\.prefix = "ferry\/": covers ferry\/kaniko-cache, the Kaniko cache/,
  ],
  [
    'a prefix with too many tag filters',
    { 'shared.yaml': { repositoryPrefixes: [{ prefix: 'team-a', tagMutabilityExclusions: ['a', 'b', 'c', 'd', 'e', 'f'] }] } },
    /repositoryPrefixes\[0\]\.tagMutabilityExclusions = .*: has 6 tag filters/,
  ],
  ['destinations as a map', { 'aws-cn.yaml': { destinations: { china: 1 } } }, /destinations = \{"china":1\}: wrong type \(expected a list of destinations\)/],
  ['the cluster as text', { 'build.yaml': { cluster: 'my-cluster' } }, /cluster = "my-cluster": wrong type: is text \(expected a map of fields\)/],
  [
    'allowUnknownRegion as text',
    { 'aws-cn.yaml': { 'destinations.0.allowUnknownRegion': 'yes' } },
    /destinations\[0\]\.allowUnknownRegion = "yes": wrong type \(expected true or false\)/,
  ],
];

describe('each rule rejects its bad value with one line naming file, line, field, value and fix', () => {
  test.each(REJECTED)('%s', (_name, changes, expected) => {
    const lines = problems(changes);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
  });
});

describe('the legitimate neighbours of those values load', () => {
  test.each<[string, Changes]>([
    [
      'a region newer than the SDK, with the documented opt-in',
      { 'aws-cn.yaml': { 'destinations.0.region': 'cn-north-9', 'destinations.0.allowUnknownRegion': true } },
    ],
    ['FIPS in GovCloud', { 'aws-us-gov.yaml': { 'destinations.0.fips': true } }],
    ['FIPS in a US commercial region', { 'build.yaml': { fips: true } }],
    ['the European Sovereign Cloud without FIPS', { 'aws-eusc.yaml': EUSC }],
    ['exactly 50 tags', { 'build.yaml': { tags: manyTags(50) } }],
    [
      'tags with every allowed character, an empty value and non-Latin letters',
      { 'build.yaml': { tags: { 'a_b.c:d/e=f+g-h@i j': 'x_y.z:/=+-@ 1', empty: '', 'Kostenstelle-Zürich': '東京' } } },
    ],
    ['an AWS managed permissions boundary', { 'build.yaml': { permissionsBoundaryArn: 'arn:aws:iam::aws:policy/PowerUserAccess' } }],
    [
      'an AWS managed permissions boundary in China',
      { 'aws-cn.yaml': { 'destinations.0.permissionsBoundaryArn': 'arn:aws-cn:iam::aws:policy/PowerUserAccess' } },
    ],
    [
      'ferry/ferry as a repository when the pusher image comes from elsewhere',
      { 'shared.yaml': { 'repositories.0.name': 'ferry/ferry', 'images.pusher': 'registry.example.com/tools/ferry:1.0.0' } },
    ],
    ['the all-controls-pass settings', { 'shared.yaml': { 'repositories.0.tagMutability': 'IMMUTABLE', cacheTagMutability: 'IMMUTABLE' } }],
  ])('%s', (_name, changes) => {
    expect(problems(changes)).toEqual([]);
  });
});

// Zod's own wording and anything regex-like: none of it may reach a user.
const RAW =
  /Invalid input|Invalid option|Invalid string|Invalid element|Invalid key|Too small|Too big|expected \w+, received|Unrecognized key|must match|\/\^|\$\/|\\[dws]/;
const LINE = /^config\/[\w.-]+\.yaml:\d+: (\S+( = .+)?: )?\S.*\(.+\)$/;
const NONSENSE: unknown[] = [['a', 'b'], { a: 1 }, 123456, -1, 1.5, '%{x}%', '', true, 'x'.repeat(300)];

interface JsonField {
  type?: string;
  properties?: Record<string, JsonField>;
  items?: JsonField;
}

/** Every field of a file kind as a setIn path (list entries at index 0). */
function fieldPaths(schema: JsonField, prefix: string[] = []): string[][] {
  return Object.entries(schema.properties ?? {}).flatMap(([key, field]) => {
    const here = [...prefix, key];
    const nested = field.items?.properties ? fieldPaths(field.items, [...here, '0']) : field.properties ? fieldPaths(field, here) : [];
    return [here, ...nested];
  });
}

test('nonsense in every field of every file gets user words, a line number and a fix; never raw zod text or a regex', () => {
  const files: Record<string, string> = { build: 'build.yaml', partition: 'aws-cn.yaml', shared: 'shared.yaml' };
  let rejected = 0;
  for (const [kind, file] of Object.entries(files)) {
    const schema = JSON.parse(renderSchemas()[`${kind}.schema.json`]) as JsonField;
    for (const field of fieldPaths(schema)) {
      for (const value of NONSENSE) {
        const lines = problems({ [file]: { [field.join('.')]: value } });
        rejected += lines.length > 0 ? 1 : 0;
        for (const line of lines) {
          expect(line).not.toMatch(RAW);
          expect(line).toMatch(LINE);
        }
      }
    }
  }
  // Most nonsense must be refused; free-text fields (e.g. a tag glob) rightly accept some of it.
  expect(rejected).toBeGreaterThan(300);
});
