/**
 * The identity model on a config unlike the example (unseen-config.ts): source roles and their
 * permissions, destination providers and trust conditions, and exactly one OIDC provider per issuer
 * per account across all stacks, for both trust paths in all four partitions.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { createAwsApp } from '../../lib/aws/app';
import { CONTROL_TOWER_PLUGIN } from '../../lib/aws/control-tower';
import { ECR_LIST_ACTION, ECR_LOGIN_ACTION, ECR_PULL_ACTIONS, ECR_PUSH_ACTIONS } from '../../lib/aws/irsa-role';
import { providerPlans } from '../../lib/aws/providers';
import { MINT_TOKEN_ACTION } from '../../lib/aws/source-role';
import { loadConfig } from '../../lib/config/load';
import type { FerryConfig, Target } from '../../lib/config/model';
import * as naming from '../../lib/config/naming';
import { allowedGrants } from './synth';
import { CLUSTER_ISSUER, EUSC_PROVIDER, OUTBOUND_AUDIENCE, OUTBOUND_ISSUER, TOKEN_SECONDS, writeUnseenConfig } from './unseen-config';

const CLUSTER_HOST_PATH = CLUSTER_ISSUER.slice('https://'.length);
const OUTBOUND_HOST = OUTBOUND_ISSUER.slice('https://'.length);

let dir: string;
let config: FerryConfig;
let synth: { assembly: CloudAssembly; json(target: Target): Record<string, any> };
let notices: string[];

beforeAll(() => {
  dir = writeUnseenConfig();
  config = loadConfig(dir);
  notices = [];
  const assembly = createAwsApp(config, { notice: (line) => notices.push(line) }).synth();
  synth = { assembly, json: (target) => assembly.getStackByName(naming.stackName(target)).template as Record<string, any> };
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const target = (name: string) => naming.allTargets(config).find((t) => t.name === name)!;
/** The resources of the delivery path: without the doctor's read-only role (tested in doctor-role.test.ts), which may read every provider of its account. */
const delivery = (t: Target): any => ({
  ...synth.json(t),
  Resources: Object.fromEntries(Object.entries(synth.json(t).Resources as Record<string, any>).filter(([id]) => !id.startsWith('DoctorRole'))),
});
const resources = (t: Target, type: string) => Object.entries(delivery(t).Resources as Record<string, any>).filter(([, r]) => r.Type === type);
const roleNamed = (t: Target, name: string) => {
  const found = resources(t, 'AWS::IAM::Role').filter(([, r]) => r.Properties.RoleName === name);
  expect(found).toHaveLength(1);
  return found[0][1];
};
const grantsOf = (t: Target, policyName: string) => allowedGrants(Template.fromJSON(synth.json(t)), policyName);
const pairs = (actions: readonly string[], arns: readonly string[]) => actions.flatMap((a) => arns.map((arn) => `${a} ${arn}`));
const buildRepositoryArns = () => ['team/app', 'team/tool'].map((r) => `arn:aws:ecr:us-east-2:111111111111:repository/${r}`);

test('the unseen config covers both paths in all four partitions and several targets per account', () => {
  const partitions = new Set(config.destinations.map((d) => `${d.partition.id} ${d.trust}`));
  for (const p of ['aws-cn', 'aws-us-gov', 'aws-eusc']) expect(partitions).toContain(`${p} outbound-federation`);
  for (const p of ['aws', 'aws-cn', 'aws-us-gov']) expect(partitions).toContain(`${p} cluster-oidc`);
  // One stack per target, and one doctor stack per account.
  expect(synth.assembly.stacks).toHaveLength(1 + config.destinations.length + new Set(naming.allTargets(config).map(naming.accountKey)).size);
});

describe('source roles (build stack)', () => {
  const others = () => config.destinations.filter((d) => d.account !== config.build.account);

  test('one per destination in another account, none for the destination in the build account', () => {
    const names = resources(config.build, 'AWS::IAM::Role')
      .map(([, r]) => r.Properties.RoleName)
      .sort();
    expect(names).toEqual([naming.roleName(config.build), ...others().map((d) => naming.sourceRoleName(d))].sort());
    expect(naming.sourceRoleArn(config, target('same-account'))).toBe(naming.roleArn(target('same-account')));
  });

  test.each(['com-a', 'cn-a', 'cn-c', 'gov-a', 'gov-b', 'eusc-a'])(
    '%s: named like its pusher role, on the build role path, trusted by its push ServiceAccount only',
    (name) => {
      const d = target(name);
      const role = roleNamed(config.build, naming.sourceRoleName(d));
      expect(role.Properties.Path).toBe('/ferry/ci/');
      expect(naming.sourceRoleArn(config, d)).toBe(`arn:aws:iam::111111111111:role/ferry/ci/ferry-pusher-${name}`);
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: `arn:aws:iam::111111111111:oidc-provider/${CLUSTER_HOST_PATH}` },
          Condition: {
            StringEquals: {
              [`${CLUSTER_HOST_PATH}:sub`]: `system:serviceaccount:delivery:ferry-pusher-${name}`,
              [`${CLUSTER_HOST_PATH}:aud`]: 'sts.amazonaws.com',
            },
          },
        },
      ]);
    },
  );

  test.each(['com-a', 'cn-a', 'cn-c', 'gov-a', 'gov-b', 'eusc-a'])(
    '%s: registry login, pull on exactly the configured build repositories, token minting only for outbound-federation',
    (name) => {
      const d = target(name);
      const outbound = d.trust === 'outbound-federation';
      const expected = [
        `${ECR_LOGIN_ACTION} *`,
        ...pairs([...ECR_PULL_ACTIONS, ECR_LIST_ACTION], buildRepositoryArns()),
        ...(outbound ? [`${MINT_TOKEN_ACTION} *`] : []),
      ];
      expect(grantsOf(config.build, naming.sourceRolePolicyName(d))).toEqual(expected.sort());
    },
  );

  test.each(['cn-a', 'gov-b', 'eusc-a'])('%s: the token grant pins audience, RS256 and the configured maximum duration', (name) => {
    const [, policy] = resources(config.build, 'AWS::IAM::ManagedPolicy').find(
      ([, p]) => p.Properties.ManagedPolicyName === naming.sourceRolePolicyName(target(name)),
    )!;
    const mint = policy.Properties.PolicyDocument.Statement.filter((s: any) => s.Action === MINT_TOKEN_ACTION);
    expect(mint).toEqual([
      {
        Sid: 'MintOutboundToken',
        Effect: 'Allow',
        Action: MINT_TOKEN_ACTION,
        Resource: '*',
        Condition: {
          Null: { 'sts:IdentityTokenAudience': 'false' },
          'ForAllValues:StringEquals': { 'sts:IdentityTokenAudience': [OUTBOUND_AUDIENCE] },
          StringEquals: { 'sts:SigningAlgorithm': 'RS256' },
          NumericLessThanEquals: { 'sts:DurationSeconds': TOKEN_SECONDS },
        },
      },
    ]);
    expect(naming.OUTBOUND_SIGNING_ALGORITHM).toBe('RS256');
  });

  test('the source policies are customer-managed, attached to their role only', () => {
    for (const d of others()) {
      const [, policy] = resources(config.build, 'AWS::IAM::ManagedPolicy').find(([, p]) => p.Properties.ManagedPolicyName === naming.sourceRolePolicyName(d))!;
      const [roleId] = resources(config.build, 'AWS::IAM::Role').find(([, r]) => r.Properties.RoleName === naming.sourceRoleName(d))!;
      expect(policy.Properties.Roles).toEqual([{ Ref: roleId }]);
      expect(policy.Properties.Path).toBe('/ferry/ci/');
    }
    expect(resources(config.build, 'AWS::IAM::Policy')).toEqual([]);
  });
});

describe('destination roles', () => {
  test('a destination in the build account pulls the build repositories with its own pusher role', () => {
    const d = target('same-account');
    const pushed = pairs(
      [...ECR_PUSH_ACTIONS, ECR_LIST_ACTION],
      ['team/app', 'team/tool'].map((r) => naming.repositoryArn(d, r)),
    );
    expect(grantsOf(d, naming.rolePolicyName(d))).toEqual(
      [...new Set([`${ECR_LOGIN_ACTION} *`, ...pushed, ...pairs([...ECR_PULL_ACTIONS, ECR_LIST_ACTION], buildRepositoryArns())])].sort(),
    );
  });

  test('other pushers only push: no pull, no token minting', () => {
    for (const d of config.destinations.filter((t) => t.name !== 'same-account')) {
      const grants = grantsOf(d, naming.rolePolicyName(d));
      expect(grants.filter((g) => g.startsWith('ecr:GetDownloadUrlForLayer') || g.startsWith('sts:'))).toEqual([]);
    }
  });

  test.each(['cn-a', 'cn-b', 'gov-b', 'eusc-a'])(
    '%s (outbound-federation): trusts the outbound issuer with aud = the audience and sub = its source role ARN, with and without its path',
    (name) => {
      const d = target(name);
      const role = roleNamed(d, naming.roleName(d));
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: name === 'eusc-a' ? EUSC_PROVIDER : `arn:${d.partition.id}:iam::${d.account}:oidc-provider/${OUTBOUND_HOST}` },
          Condition: {
            StringEquals: {
              [`${OUTBOUND_HOST}:aud`]: OUTBOUND_AUDIENCE,
              // Whether STS keeps the role path in `sub` is not documented: both spellings of the one role.
              [`${OUTBOUND_HOST}:sub`]: [`arn:aws:iam::111111111111:role/ferry/ci/ferry-pusher-${name}`, `arn:aws:iam::111111111111:role/ferry-pusher-${name}`],
            },
          },
        },
      ]);
      // No trust of the cluster issuer anywhere in an outbound-federation destination's stack.
      expect(JSON.stringify(delivery(d))).not.toContain(CLUSTER_HOST_PATH);
    },
  );

  test.each(['same-account', 'com-a', 'com-b', 'cn-c', 'gov-a'])('%s (cluster-oidc): trusts the cluster issuer with the push ServiceAccount', (name) => {
    const d = target(name);
    const role = roleNamed(d, naming.roleName(d));
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRoleWithWebIdentity',
        Principal: { Federated: `arn:${d.partition.id}:iam::${d.account}:oidc-provider/${CLUSTER_HOST_PATH}` },
        Condition: {
          StringEquals: {
            [`${CLUSTER_HOST_PATH}:sub`]: `system:serviceaccount:delivery:ferry-pusher-${name}`,
            [`${CLUSTER_HOST_PATH}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ]);
    expect(JSON.stringify(delivery(d))).not.toContain(OUTBOUND_HOST);
  });
});

describe('once-per-account resources', () => {
  const accountOf = (t: Target) => `${t.partition.id}:${t.account}`;
  const all = () => naming.allTargets(config);

  test('exactly one OIDC provider per issuer per account across all stacks, listing the audience its roles trust', () => {
    const created = all().flatMap((t) =>
      resources(t, 'AWS::IAM::OIDCProvider').map(([, p]) => ({
        key: `${accountOf(t)} ${p.Properties.Url}`,
        clients: p.Properties.ClientIdList,
        stack: t.name,
      })),
    );
    const keys = created.map((c) => c.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(
      [
        `aws:111111111111 ${CLUSTER_ISSUER}`,
        `aws:444444444444 ${CLUSTER_ISSUER}`,
        `aws-cn:333333333333 ${OUTBOUND_ISSUER}`,
        `aws-cn:555555555555 ${CLUSTER_ISSUER}`,
        `aws-us-gov:222222222222 ${CLUSTER_ISSUER}`,
        `aws-us-gov:222222222222 ${OUTBOUND_ISSUER}`,
      ].sort(),
    );
    for (const c of created) expect(c.clients).toEqual([c.key.endsWith(OUTBOUND_ISSUER) ? OUTBOUND_AUDIENCE : 'sts.amazonaws.com']);
    // The owner is the first target of the account that trusts the issuer: build first, then file order.
    expect(created.map((c) => c.stack).sort()).toEqual(['ci', 'cn-a', 'cn-c', 'com-a', 'gov-a', 'gov-b'].sort());
  });

  test('every trusted provider is created by a stack of its account or imported by config', () => {
    const created = new Set(
      all().flatMap((t) =>
        resources(t, 'AWS::IAM::OIDCProvider').map(([, p]) => `arn:${t.partition.id}:iam::${t.account}:oidc-provider/${p.Properties.Url.slice(8)}`),
      ),
    );
    for (const t of all()) {
      for (const [, role] of resources(t, 'AWS::IAM::Role')) {
        const federated = role.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Federated;
        expect(created.has(federated) || federated === EUSC_PROVIDER).toBe(true);
      }
    }
    expect(created.has(EUSC_PROVIDER)).toBe(false);
  });

  test('a stack that imports a provider another stack creates deploys after that stack, and says why', () => {
    const dependsOn = (t: Target) =>
      synth.assembly
        .getStackByName(naming.stackName(t))
        .dependencies.map((d) => d.id)
        .filter((id) => id.startsWith('ferry-') && !id.endsWith('.assets') && !id.endsWith(naming.DOCTOR_STACK_SUFFIX));
    expect(dependsOn(target('same-account'))).toEqual(['ferry-ci']);
    expect(dependsOn(target('com-b'))).toEqual(['ferry-com-a']);
    expect(dependsOn(target('cn-b'))).toEqual(['ferry-cn-a']);
    for (const name of ['ci', 'com-a', 'cn-a', 'cn-c', 'gov-a', 'gov-b', 'eusc-a']) expect(dependsOn(target(name))).toEqual([]);
    expect(synth.json(target('cn-b')).Metadata.FerryDeployAfter).toEqual({
      Stack: 'ferry-cn-a',
      Reason: `creates arn:aws-cn:iam::333333333333:oidc-provider/${OUTBOUND_HOST}`,
    });
    // An importer's role carries no DependsOn: nothing in its own stack deploys the provider.
    for (const [, role] of resources(target('cn-b'), 'AWS::IAM::Role')) expect(role.DependsOn).toBeUndefined();
  });

  test('IAM role and policy names are unique per account across all stacks', () => {
    for (const type of ['AWS::IAM::Role', 'AWS::IAM::ManagedPolicy']) {
      const field = type === 'AWS::IAM::Role' ? 'RoleName' : 'ManagedPolicyName';
      const names = all().flatMap((t) => resources(t, type).map(([, r]) => `${accountOf(t)} ${r.Properties[field]}`));
      expect(names.length).toBeGreaterThan(all().length);
      expect(new Set(names).size).toBe(names.length);
    }
  });

  test('synth says once which stack deploys first and which client ID the imported provider must list', () => {
    expect(notices).toEqual([
      `ferry: deploy ferry-ci before ferry-same-account: it creates arn:aws:iam::111111111111:oidc-provider/${CLUSTER_HOST_PATH}, which they trust (cdk deploy includes it unless --exclusively)`,
      `ferry: deploy ferry-cn-a before ferry-cn-b: it creates arn:aws-cn:iam::333333333333:oidc-provider/${OUTBOUND_HOST}, which they trust (cdk deploy includes it unless --exclusively)`,
      `ferry: ferry-eusc-a imports ${EUSC_PROVIDER}; it must list client ID "${OUTBOUND_AUDIENCE}" (aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${EUSC_PROVIDER} --client-id ${OUTBOUND_AUDIENCE})`,
      `ferry: deploy ferry-com-a before ferry-com-b: it creates arn:aws:iam::444444444444:oidc-provider/${CLUSTER_HOST_PATH}, which they trust (cdk deploy includes it unless --exclusively)`,
    ]);
    expect(providerPlans(config)).toHaveLength(7);
  });
});

test('every synth check passes; cdk-nag acknowledges only the wildcards IAM has no resource type for, each with its reason', () => {
  const report = JSON.parse(fs.readFileSync(path.join(synth.assembly.directory, 'validation-report.json'), 'utf8'));
  for (const r of report.pluginReports) expect(r.violations).toEqual([]);
  // Control Tower's acknowledgements (repositories) are synth-truth's: control-tower.test.ts.
  const suppressed = report.pluginReports.filter((r: any) => r.pluginName !== CONTROL_TOWER_PLUGIN).flatMap((r: any) => r.suppressedViolations ?? []);
  const mintReasons = suppressed.filter((s: any) => s.violatingConstructs.some((c: any) => /SourceRole-(cn-a|gov-b|eusc-a)\//.test(c.constructPath)));
  expect(mintReasons.length).toBeGreaterThan(0);
  for (const s of mintReasons) expect(s.reason).toContain(MINT_TOKEN_ACTION);
  // The doctor's read-only policy also names each of its account's stack ARNs, whose last part is the stack ID.
  for (const s of suppressed)
    expect(s.ruleName).toMatch(/^AwsSolutions-IAM5\[Resource::(\*|arn:[a-z-]+:cloudformation:[a-z0-9-]+:\d{12}:stack\/ferry-[a-z0-9-]+\/\*)\]$/);
});

describe('an imported cluster provider with a custom cluster audience', () => {
  let imported: { config: FerryConfig; notices: string[]; json: (t: Target) => Record<string, any>; dir: string };
  const arn = `arn:aws:iam::111111111111:oidc-provider/${CLUSTER_HOST_PATH}`;

  beforeAll(() => {
    const dir = writeUnseenConfig((files) => {
      Object.assign(files['build.yaml'], { oidcProviderArn: arn });
      Object.assign((files['build.yaml'] as any).cluster, { audience: 'ferry.example' });
    });
    const cfg = loadConfig(dir);
    const lines: string[] = [];
    const assembly = createAwsApp(cfg, { notice: (line) => lines.push(line) }).synth();
    imported = { config: cfg, notices: lines, dir, json: (t) => assembly.getStackByName(naming.stackName(t)).template as Record<string, any> };
  });
  afterAll(() => fs.rmSync(imported.dir, { recursive: true, force: true }));

  test('no stack of the build account creates it, and synth names the audience it must list (not sts.amazonaws.com)', () => {
    const inBuildAccount = naming.allTargets(imported.config).filter((t) => t.account === '111111111111');
    expect(inBuildAccount.map((t) => t.name)).toEqual(['ci', 'same-account']);
    for (const t of inBuildAccount) expect(Object.values(imported.json(t).Resources).filter((r: any) => r.Type === 'AWS::IAM::OIDCProvider')).toEqual([]);
    expect(imported.notices.filter((l) => l.includes(arn))).toEqual([
      `ferry: ferry-ci, ferry-same-account import ${arn}; it must list client ID "ferry.example" (aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${arn} --client-id ferry.example)`,
    ]);
  });

  test("the source roles and the build account's pusher role trust that audience", () => {
    for (const r of Object.values(imported.json(imported.config.build).Resources).filter(
      (r: any) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName !== naming.DOCTOR_ROLE,
    ) as any[]) {
      expect(r.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals[`${CLUSTER_HOST_PATH}:aud`]).toBe('ferry.example');
    }
  });
});

test('the same 12 digits in another partition are another account: a source role, and a provider of its own', () => {
  const sameDigits = writeUnseenConfig((files) => {
    (files['aws-us-gov.yaml'] as any).destinations = [{ name: 'gov-twin', account: '111111111111', region: 'us-gov-west-1' }];
  });
  try {
    const cfg = loadConfig(sameDigits);
    const twin = cfg.destinations.find((d) => d.name === 'gov-twin')!;
    expect(naming.sourceRoleInBuildStack(cfg, twin)).toBe(true);
    expect(naming.sourceRoleArn(cfg, twin)).toBe('arn:aws:iam::111111111111:role/ferry/ci/ferry-pusher-gov-twin');
    const plan = providerPlans(cfg).find((p) => p.users.some((u) => u.name === 'gov-twin'))!;
    expect(plan.owner?.name).toBe('gov-twin');
    expect(plan.arn).toBe(`arn:aws-us-gov:iam::111111111111:oidc-provider/${CLUSTER_HOST_PATH}`);
  } finally {
    fs.rmSync(sameDigits, { recursive: true, force: true });
  }
});

test("the outbound trust policy, with both sub spellings, fits IAM's default 2,048 characters at the longest values the config accepts", () => {
  // rolePath 512 (IAM's maximum), issuer URL and audience 255 each (IAM's provider limits), a 24-character name.
  const rolePath = `/${'p'.repeat(510)}/`;
  const issuer = `https://${'i'.repeat(255 - 'https://'.length - '.tokens.sts.global.api.aws'.length)}.tokens.sts.global.api.aws`;
  const audience = 'a'.repeat(255);
  const name = 'gov-abcdefghijklmnopqrst';
  const longDir = writeUnseenConfig((files) => {
    Object.assign(files['build.yaml'], { rolePath, outboundFederation: { issuerUrl: issuer, audience } });
    files['aws-us-gov.yaml'] = {
      partition: 'aws-us-gov',
      destinations: [{ name, account: '222222222222', region: 'us-gov-west-1', trust: 'outbound-federation' }],
    };
    for (const file of ['aws.yaml', 'aws-cn.yaml', 'aws-eusc.yaml']) delete files[file];
  });
  try {
    const long = loadConfig(longDir);
    const d = long.destinations[0];
    expect([rolePath.length, issuer.length, audience.length, name.length]).toEqual([512, 255, 255, 24]);
    const assembly = createAwsApp(long, { notice: () => {} }).synth();
    const template = assembly.getStackByName(naming.stackName(d)).template as Record<string, any>;
    const role = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === naming.roleName(d));
    const trust = role.Properties.AssumeRolePolicyDocument;
    expect(trust.Statement[0].Condition.StringEquals[`${issuer.slice('https://'.length)}:sub`]).toEqual(naming.outboundTokenSubjects(long, d));
    expect(naming.outboundTokenSubjects(long, d)).toHaveLength(2);
    // IAM counts the policy without whitespace; CloudFormation sends it as compact JSON.
    const size = JSON.stringify(trust).length;
    expect(size).toBeLessThanOrEqual(2048);
  } finally {
    fs.rmSync(longDir, { recursive: true, force: true });
  }
});
