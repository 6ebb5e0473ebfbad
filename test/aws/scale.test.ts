/**
 * The issue's table and 1,000 x 10, as large as CI's time allows (the benchmark also synthesizes
 * 1,000 x 30, about 31,000 repositories in 126 stacks): every config synthesizes through `npm run synth`'s code path, and every template
 * it writes is within AWS's limits, measured here from cdk.out's JSON by code of its own, not by
 * lib/aws/limits.ts. Grants stay exact: each pusher may push to exactly its repositories.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { DOCTOR_REPOSITORY_SID, doctorReadsMayMove } from '../../lib/aws/doctor-role';
import { loadConfig } from '../../lib/config/load';
import * as naming from '../../lib/config/naming';
import { synthesize } from '../../lib/synth';
import { tempDir } from '../support/config-fixture';
import { type ScaleConfig, writeScaleConfig } from '../support/scale-config';

interface Written {
  readonly name: string;
  readonly template: any;
  readonly bytes: number;
  readonly inline: boolean;
  readonly dependencies: string[];
}

function readAssembly(dir: string): Written[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  return Object.entries<any>(manifest.artifacts)
    .filter(([, a]) => a.type === 'aws:cloudformation:stack')
    .map(([name, a]) => {
      const text = fs.readFileSync(path.join(dir, a.properties.templateFile), 'utf8');
      const template = JSON.parse(text);
      const inline = a.properties.stackTemplateAssetObjectUrl === undefined;
      return { name, template, inline, bytes: Buffer.byteLength(inline ? stringify(template) : text), dependencies: a.dependencies ?? [] };
    });
}

const compact = (x: unknown) => JSON.stringify(x).replace(/\s/g, '').length;

/** Every limit of the issue, one expectation each, with the stack and resource in the failure message. */
function expectWithinLimits(stacks: Written[]): void {
  const problems: string[] = [];
  const attached = new Map<string, number>();
  for (const s of stacks) {
    const resources = Object.entries<any>(s.template.Resources ?? {});
    if (resources.length > 500) problems.push(`${s.name}: ${resources.length} resources`);
    if (Object.keys(s.template.Outputs ?? {}).length > 200) problems.push(`${s.name}: outputs`);
    if (Object.keys(s.template.Parameters ?? {}).length > 200) problems.push(`${s.name}: parameters`);
    if (s.bytes > (s.inline ? 51_200 : 1_000_000)) problems.push(`${s.name}: ${s.bytes} bytes (inline ${s.inline})`);
    for (const [id, r] of resources) {
      const p = r.Properties ?? {};
      if (r.Type === 'AWS::IAM::ManagedPolicy') {
        if (compact(p.PolicyDocument) > 6_144) problems.push(`${s.name}/${id}: policy ${compact(p.PolicyDocument)} chars`);
        for (const role of p.Roles ?? []) attached.set(`${s.name}/${role.Ref}`, (attached.get(`${s.name}/${role.Ref}`) ?? 0) + 1);
      }
      if (r.Type === 'AWS::IAM::Role') {
        attached.set(`${s.name}/${id}`, (attached.get(`${s.name}/${id}`) ?? 0) + (p.ManagedPolicyArns ?? []).length);
        if (compact(p.AssumeRolePolicyDocument) > 2_048) problems.push(`${s.name}/${id}: trust policy`);
        const inline = (p.Policies ?? []).reduce((n: number, x: any) => n + compact(x.PolicyDocument), 0);
        if (inline > 10_240) problems.push(`${s.name}/${id}: inline policies ${inline}`);
      }
      if (r.Type === 'AWS::ECR::Repository' && p.RepositoryPolicyText && JSON.stringify(p.RepositoryPolicyText).length > 10_240)
        problems.push(`${s.name}/${id}: repository policy`);
    }
  }
  for (const [role, n] of attached) if (n > 10) problems.push(`${role}: ${n} managed policies`);
  expect(problems).toEqual([]);
}

/** Every (action, repository ARN) the role may do: from managed policies attached to it and repository policies naming it. */
function grantsOf(stacks: Written[], roleName: string, roleArn: string): Set<string> {
  const grants = new Set<string>();
  const all = stacks.flatMap((s) => Object.entries<any>(s.template.Resources ?? {}).map(([id, r]) => ({ s, id, r })));
  const roleIds = new Set(all.filter((x) => x.r.Type === 'AWS::IAM::Role' && x.r.Properties.RoleName === roleName).map((x) => `${x.s.name}/${x.id}`));
  for (const { s, r } of all) {
    if (r.Type === 'AWS::IAM::ManagedPolicy' && (r.Properties.Roles ?? []).some((ref: any) => roleIds.has(`${s.name}/${ref.Ref}`)))
      for (const st of r.Properties.PolicyDocument.Statement)
        for (const a of [st.Action].flat()) for (const res of [st.Resource].flat()) grants.add(`${a} ${res}`);
    // A repository policy applies to its own repository: written here as `repository:<name>`.
    if (r.Type === 'AWS::ECR::Repository' && r.Properties.RepositoryPolicyText)
      for (const st of r.Properties.RepositoryPolicyText.Statement)
        if ([st.Principal.AWS].flat().includes(roleArn)) for (const a of [st.Action].flat()) grants.add(`${a} repository:${r.Properties.RepositoryName}`);
  }
  return grants;
}

function synth(scale: ScaleConfig): { stacks: Written[]; dir: string; names: readonly string[] } {
  const dir = writeScaleConfig(scale);
  const out = tempDir('ferry-scale-out-');
  const { stacks: names } = synthesize({ configDir: dir, outRoot: out });
  return { stacks: readAssembly(path.join(out, 'cdk.out')), dir, names };
}

describe.each<[string, ScaleConfig]>([
  ['80 repositories (GovCloud pusher policy past 6,144 characters before)', { repositories: 80, destinations: 2 }],
  ['150 repositories x 3 destinations', { repositories: 150, destinations: 3 }],
  // About 5,200 repositories in 13 stacks: some 40 s of synth on a quiet 2-core machine.
  ['400 repositories x 12 destinations', { repositories: 400, destinations: 12 }],
  // The build account's 1,000 repositories are bytes-bound (ten source roles in each policy), and the
  // doctor's reads join every repository policy only after the split: it must have kept room for them.
  ['1,000 repositories x 10 destinations (the doctor reads through 1,000 repository policies)', { repositories: 1000, destinations: 10 }],
  ['120 repositories with cli-credentials (past the 51,200-byte inline template)', { repositories: 120, destinations: 2, synthesizer: 'cli-credentials' }],
])('%s', (_name, scale) => {
  let result: ReturnType<typeof synth>;
  beforeAll(() => {
    result = synth(scale);
  }, 300_000);

  test('every template is within every CloudFormation, IAM and ECR limit', () => {
    expectWithinLimits(result.stacks);
  });

  test('every pusher may push to exactly its repositories, no more (nothing widened)', () => {
    const config = loadConfig(result.dir);
    for (const target of config.destinations) {
      const grants = grantsOf(result.stacks, naming.roleName(target), naming.roleArn(target));
      const pushed = [...grants].filter((g) => g.startsWith('ecr:PutImage ')).map((g) => g.slice('ecr:PutImage '.length));
      const expected = config.repositories.map((r) => naming.repositoryArn(target, r.name));
      const viaRepositoryPolicy = config.repositories.map((r) => `repository:${r.name}`);
      expect(pushed.sort()).toEqual((pushed.some((p) => p.startsWith('repository:')) ? viaRepositoryPolicy : expected).sort());
    }
  });

  test("wherever the doctor's repository reads moved into repository policies, the split had kept room for them", () => {
    const config = loadConfig(result.dir);
    for (const owner of new Set(naming.allTargets(config).map((t) => naming.accountOwner(config, t)))) {
      const roleArn = naming.doctorRoleArn(owner);
      const moved = result.stacks.some((s) =>
        Object.values<any>(s.template.Resources).some(
          (r) => r.Type === 'AWS::ECR::Repository' && (r.Properties.RepositoryPolicyText?.Statement ?? []).some((st: any) => st.Principal.AWS === roleArn),
        ),
      );
      if (moved) expect(`${owner.account}: ${doctorReadsMayMove(config, owner)}`).toBe(`${owner.account}: true`);
    }
  });

  if (scale.repositories >= 1000)
    test("the doctor's repository reads moved into the build account's repository policies (what the split keeps room for)", () => {
      const config = loadConfig(result.dir);
      const head = naming.stackName(config.build);
      const build = result.stacks.filter((s) => s.name === head || s.name.startsWith(`${head}${naming.REPOSITORY_STACK_INFIX}`));
      const policies = build.flatMap((s) => Object.values<any>(s.template.Resources).filter((r) => r.Type === 'AWS::ECR::Repository'));
      expect(policies).toHaveLength(naming.repositoriesOf(config, config.build).length);
      for (const r of policies) expect(r.Properties.RepositoryPolicyText.Statement.map((st: any) => st.Sid)).toContain(DOCTOR_REPOSITORY_SID);
    });

  test("a target's further stacks deploy after its own stack, and their names are the documented ones", () => {
    const config = loadConfig(result.dir);
    for (const target of naming.allTargets(config)) {
      const head = naming.stackName(target);
      const extras = result.stacks.filter((s) => s.name.startsWith(`${head}${naming.REPOSITORY_STACK_INFIX}`));
      extras.forEach((s, i) => {
        expect(s.name).toBe(naming.repositoryStackName(target, i + 2));
        expect(s.dependencies).toContain(head);
      });
      const repositories = result.stacks
        .filter((s) => s.name === head || extras.includes(s))
        .flatMap((s) => Object.values<any>(s.template.Resources).filter((r) => r.Type === 'AWS::ECR::Repository'))
        .map((r) => r.Properties.RepositoryName);
      expect(repositories).toEqual([...naming.repositoriesOf(config, target)]);
    }
  });
});
