/**
 * The two apps agree: for every target, the ServiceAccount the Argo templates run as carries the
 * ARN of the role CloudFormation creates, and that role trusts exactly that ServiceAccount.
 * ARNs are rebuilt from the synthesized templates (RoleName, Path, stack account and region),
 * not from the naming module both apps share, so a drift in either app fails here.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createAwsApp } from '../lib/aws/app';
import type { Target } from '../lib/config/model';
import { allTargets, pushTaskName, stackName } from '../lib/config/naming';
import { partitionOfRegion } from '../lib/config/partitions';
import { TEMPLATE, WORKFLOW_TEMPLATE } from '../lib/k8s/constants';
import { exampleConfig, Json, manifests } from './k8s/helpers';

const config = exampleConfig();
const k8s = manifests(config);
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-wiring-'));
const assembly = createAwsApp(config, { outdir }).synth();
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

interface IrsaRole {
  arn: string;
  subjects: string[];
  audiences: string[];
}

/** The one role in the stack that web identities may assume, with its ARN as IAM will write it. */
function irsaRole(target: Target): IrsaRole {
  const stack = assembly.getStackByName(stackName(target));
  const roles = Object.values(stack.template.Resources as Record<string, Json>).filter(
    (r) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('sts:AssumeRoleWithWebIdentity'),
  );
  expect(roles).toHaveLength(1);
  const props = roles[0].Properties;
  expect(typeof props.RoleName).toBe('string');
  const partition = partitionOfRegion(stack.environment.region)!.id;
  const conditions = props.AssumeRolePolicyDocument.Statement.map((s: Json) => s.Condition?.StringEquals ?? {});
  const claim = (suffix: string) => conditions.flatMap((c: Record<string, string>) => Object.entries(c).filter(([k]) => k.endsWith(suffix)).map(([, v]) => v));
  return {
    arn: `arn:${partition}:iam::${stack.environment.account}:role${props.Path ?? '/'}${props.RoleName}`,
    subjects: claim(':sub'),
    audiences: claim(':aud'),
  };
}

/** The template that runs as this target's identity: Kaniko for the build account, its push template otherwise. */
function podTemplate(target: Target): Json {
  return target.kind === 'build' ? k8s.template(WORKFLOW_TEMPLATE.kanikoBuild, TEMPLATE.build) : k8s.template(WORKFLOW_TEMPLATE.push, pushTaskName(target));
}

describe.each(allTargets(config).map((t) => [t.name, t] as const))('%s', (_name, target) => {
  // Read in beforeAll, not while jest collects the tests: an expect() that fails during
  // collection aborts the whole file instead of failing one named test.
  let role: IrsaRole;
  let serviceAccount: Json;
  beforeAll(() => {
    role = irsaRole(target);
    serviceAccount = k8s.ofKind('ServiceAccount').find((sa) => sa.metadata.name === podTemplate(target).serviceAccountName);
  });

  test('its pod template runs as a ServiceAccount that is emitted', () => {
    expect(serviceAccount).toBeDefined();
  });

  test('that ServiceAccount carries the ARN of the role in the synthesized CloudFormation template', () => {
    expect(serviceAccount.metadata.annotations['eks.amazonaws.com/role-arn']).toBe(role.arn);
  });

  test('that role trusts exactly this ServiceAccount, by namespace and name, for the annotated audience', () => {
    expect(role.subjects).toEqual([`system:serviceaccount:${serviceAccount.metadata.namespace}:${serviceAccount.metadata.name}`]);
    expect(role.audiences).toEqual([serviceAccount.metadata.annotations['eks.amazonaws.com/audience']]);
  });
});
