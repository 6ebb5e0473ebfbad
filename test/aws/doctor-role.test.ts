/**
 * The doctor's read-only role (lib/aws/doctor-role.ts): one per account, trusted by the account
 * only, reading exactly what ferry's stacks of that account create, and nothing that writes.
 */
import {
  DOCTOR_CREATION_TEMPLATE_ACTION,
  DOCTOR_OUTBOUND_ACTION,
  DOCTOR_POLICY_ACTIONS,
  DOCTOR_PROVIDER_ACTION,
  DOCTOR_REPOSITORY_ACTIONS,
  DOCTOR_ROLE_ACTIONS,
  DOCTOR_STACK_ACTIONS,
} from '../../lib/aws/doctor-role';
import { loadConfig } from '../../lib/config/load';
import * as naming from '../../lib/config/naming';
import { EXAMPLE_CONFIG } from '../support/config-fixture';
import { type Synthesized, synthesize } from './synth';

const config = loadConfig(EXAMPLE_CONFIG);
let synth: Synthesized;
beforeAll(() => {
  synth = synthesize(config);
});

const READ_ACTIONS = new Set<string>([
  ...DOCTOR_STACK_ACTIONS,
  ...DOCTOR_ROLE_ACTIONS,
  ...DOCTOR_POLICY_ACTIONS,
  DOCTOR_PROVIDER_ACTION,
  ...DOCTOR_REPOSITORY_ACTIONS,
  DOCTOR_OUTBOUND_ACTION,
  DOCTOR_CREATION_TEMPLATE_ACTION,
]);

test.each(naming.allTargets(config).map((t) => [t.name, t] as const))(
  '%s: one doctor role, trusted by its own account, reading only its own resources',
  (_name, target) => {
    // Its own stack, which every stack of the account deploys after.
    const resources = Object.values<any>(synth.assembly.getStackByName(naming.doctorStackName(target)).template.Resources);
    expect(synth.assembly.getStackByName(naming.stackName(target)).dependencies.map((d) => d.id)).toContain(naming.doctorStackName(target));
    const roles = resources.filter((r) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === naming.DOCTOR_ROLE);
    expect(roles).toHaveLength(1);
    expect(roles[0].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      // The account by its ID (IAM stores it as the root ARN); cfn-lint refuses an aws-eusc root ARN.
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: target.account } },
    ]);
    const policy = resources.find((r) => r.Type === 'AWS::IAM::ManagedPolicy' && r.Properties.ManagedPolicyName === naming.DOCTOR_POLICY);
    const statements: any[] = policy.Properties.PolicyDocument.Statement;
    for (const s of statements) {
      for (const action of [s.Action].flat()) expect([action, READ_ACTIONS.has(action)]).toEqual([action, true]);
      for (const resource of [s.Resource].flat()) {
        if (resource === '*') expect([s.Action].flat().every((a: string) => a === DOCTOR_OUTBOUND_ACTION || a === DOCTOR_CREATION_TEMPLATE_ACTION)).toBe(true);
        else expect(resource).toMatch(new RegExp(`^arn:${target.partition.id}:[a-z]+:[a-z0-9-]*:${target.account}:`));
      }
    }
    const resourcesOf = (sid: string) => [statements.find((s) => s.Sid === sid)?.Resource ?? []].flat();
    expect(resourcesOf('ReadRoles')).toContain(naming.roleArn(target));
    expect(resourcesOf('ReadRepositories')).toEqual(
      naming
        .repositoriesOf(config, target)
        .map((r) => naming.repositoryArn(target, r))
        .sort(),
    );
    expect(resourcesOf('ReadStacks')).toEqual(
      [naming.stackName(target), naming.doctorStackName(target)]
        .map((s) => `arn:${target.partition.id}:cloudformation:${target.region}:${target.account}:stack/${s}/*`)
        .sort(),
    );
    // Outbound federation is read in the build account only, and only when some destination uses it.
    expect(statements.some((s) => s.Action === DOCTOR_OUTBOUND_ACTION)).toBe(target.kind === 'build');
  },
);
