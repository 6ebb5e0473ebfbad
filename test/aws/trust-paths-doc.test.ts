/**
 * The IAM examples in docs/trust-paths.md are what the example config synthesizes, so the page a
 * reviewer reads line by line cannot drift from the templates.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createAwsApp } from '../../lib/aws/app';
import { loadConfig } from '../../lib/config/load';
import * as naming from '../../lib/config/naming';
import { EXAMPLE_CONFIG, REPO_ROOT } from '../support/config-fixture';

const DOC = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'trust-paths.md'), 'utf8');
const config = loadConfig(EXAMPLE_CONFIG);
const assembly = createAwsApp(config, { notice: () => {} }).synth();
const china = config.destinations.find((d) => d.name === 'china')!;

/** Statements with single values and lists written alike, and action lists in any order. */
function normal(statement: any): any {
  const list = (v: unknown) => [v].flat().map(String).sort();
  const { Sid, Effect, Action, Resource, Principal, Condition } = statement;
  return JSON.parse(
    JSON.stringify({ Sid, Effect, Action: list(Action), Resource: Resource === undefined ? undefined : list(Resource), Principal, Condition }, (_k, v) =>
      Array.isArray(v) ? [...v].map(String).sort() : v,
    ),
  );
}

function resources(stack: string, type: string): any[] {
  return Object.values(assembly.getStackByName(stack).template.Resources as Record<string, any>).filter((r) => r.Type === type);
}

const blocks = [...DOC.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]));

test('the doc shows the source role trust, the source policy and the destination trust exactly as synthesized', () => {
  expect(blocks).toHaveLength(3);
  const [sourceTrust, sourcePolicy, destinationTrust] = blocks;
  const build = naming.stackName(config.build);
  const sourceRole = resources(build, 'AWS::IAM::Role').find((r) => r.Properties.RoleName === naming.sourceRoleName(china));
  expect([normal(sourceTrust)]).toEqual(sourceRole.Properties.AssumeRolePolicyDocument.Statement.map(normal));
  const policy = resources(build, 'AWS::IAM::ManagedPolicy').find((p) => p.Properties.ManagedPolicyName === naming.sourceRolePolicyName(china));
  expect(sourcePolicy.map(normal)).toEqual(policy.Properties.PolicyDocument.Statement.map(normal));
  const role = resources(naming.stackName(china), 'AWS::IAM::Role').find((r) => r.Properties.RoleName === naming.roleName(china));
  expect([normal(destinationTrust)]).toEqual(role.Properties.AssumeRolePolicyDocument.Statement.map(normal));
});

test('the doc names the signing algorithm the source roles pin', () => {
  expect(DOC).toContain(`**Signing algorithm: ${naming.OUTBOUND_SIGNING_ALGORITHM}.**`);
});
