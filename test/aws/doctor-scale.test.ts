/**
 * The doctor's role at scale: when its exact repository reads do not fit into IAM's ten managed
 * policies next to its other reads (about 800 repositories in one account), they move into every
 * repository's own policy, naming the doctor role's ARN, and synth says so; nothing is widened.
 */
import * as fs from 'node:fs';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { createAwsApp, synthAwsApp } from '../../lib/aws/app';
import { DOCTOR_REPOSITORY_ACTIONS, DOCTOR_REPOSITORY_SID } from '../../lib/aws/doctor-role';
import { MANAGED_POLICIES_PER_ROLE } from '../../lib/aws/policy-documents';
import { loadConfig } from '../../lib/config/load';
import type { FerryConfig } from '../../lib/config/model';
import * as naming from '../../lib/config/naming';
import { tempDir } from '../support/config-fixture';
import { writeScaleConfig } from '../support/scale-config';

// Templates are plain JSON here.
type Json = any;

const REPOSITORIES = 900;
let config: FerryConfig;
let assembly: CloudAssembly;
const notices: string[] = [];
const dirs: string[] = [];

beforeAll(() => {
  const dir = writeScaleConfig({ repositories: REPOSITORIES, destinations: 1 });
  const out = tempDir('ferry-doctor-scale-');
  dirs.push(dir, out);
  config = loadConfig(dir);
  assembly = synthAwsApp(createAwsApp(config, { outdir: out, notice: (line) => notices.push(line) }));
}, 300_000);

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('the doctor keeps at most ten exact policies and reads every repository through its repository policy', () => {
  const destination = config.destinations[0];
  const doctorArn = `arn:${destination.partition.id}:iam::${destination.account}:role${destination.rolePath}${naming.DOCTOR_ROLE}`;
  const doctorStack = assembly.getStackByName(naming.doctorStackName(destination));
  const policies = Object.values<Json>(doctorStack.template.Resources).filter((r) => r.Type === 'AWS::IAM::ManagedPolicy');
  expect(policies.length).toBeGreaterThan(0);
  expect(policies.length).toBeLessThanOrEqual(MANAGED_POLICIES_PER_ROLE);
  for (const p of policies) {
    expect(p.Properties.PolicyDocument.Statement.map((s: Json) => s.Sid)).not.toContain(DOCTOR_REPOSITORY_SID);
    for (const s of p.Properties.PolicyDocument.Statement) expect([s.Resource].flat().filter((r: string) => r.includes(':repository/'))).toEqual([]);
  }
  const stacks = assembly.stacks.filter((s) => s.environment.account === destination.account && s !== doctorStack);
  const repositories = stacks.flatMap((s) => Object.values<Json>(s.template.Resources).filter((r) => r.Type === 'AWS::ECR::Repository'));
  expect(repositories).toHaveLength(REPOSITORIES);
  for (const r of repositories) {
    const reads = r.Properties.RepositoryPolicyText.Statement.filter((s: Json) => s.Sid === DOCTOR_REPOSITORY_SID);
    expect(reads).toEqual([{ Action: [...DOCTOR_REPOSITORY_ACTIONS].sort(), Effect: 'Allow', Principal: { AWS: doctorArn }, Sid: DOCTOR_REPOSITORY_SID }]);
  }
  // ECR checks a policy's principal exists: every stack of the account deploys after the doctor's.
  for (const s of stacks) expect(s.dependencies.map((d) => d.id)).toContain(naming.doctorStackName(destination));
  expect(notices.filter((l) => l.includes(`ferry-doctor role of account ${destination.account}`) && l.includes('repository policies'))).toHaveLength(1);
});

test('a small account keeps the repository reads in the doctor policy, exact ARNs', () => {
  const small = loadConfig(writeScaleConfig({ repositories: 20, destinations: 1 }, tempDir('ferry-doctor-small-')));
  const out = tempDir('ferry-doctor-small-out-');
  dirs.push(small.dir, out);
  const lines: string[] = [];
  const a = synthAwsApp(createAwsApp(small, { outdir: out, notice: (line) => lines.push(line) }));
  const destination = small.destinations[0];
  const statements = Object.values<Json>(a.getStackByName(naming.doctorStackName(destination)).template.Resources)
    .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy')
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
  const reads = statements.filter((s: Json) => s.Sid === DOCTOR_REPOSITORY_SID).flatMap((s: Json) => [s.Resource].flat());
  expect(reads.sort()).toEqual(
    naming
      .repositoriesOf(small, destination)
      .map((r) => naming.repositoryArn(destination, r))
      .sort(),
  );
  expect(lines.filter((l) => l.includes('ferry-doctor role'))).toEqual([]);
});
