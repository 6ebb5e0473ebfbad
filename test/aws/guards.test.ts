/**
 * What stops a synth: cdk-nag findings (the acknowledgement is scoped to the role policy), and for
 * the cli-credentials synthesizer, assets and templates too large to send inline.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { stringify } from 'yaml';
import { createAwsApp, synthAwsApp } from '../../lib/aws/app';
import { loadConfig } from '../../lib/config/load';
import { stackName } from '../../lib/config/naming';
import { EXAMPLE_CONFIG } from '../support/config-fixture';
import { configVariant } from './synth';

const config = loadConfig(EXAMPLE_CONFIG);
const govcloud = config.destinations.find((t) => t.synthesizer === 'cli-credentials')!;

function appWith(addToStack: (stack: Stack) => void) {
  const app = createAwsApp(config);
  addToStack(app.node.findChild(stackName(govcloud)) as Stack);
  return app;
}

function synthError(app: ReturnType<typeof createAwsApp>): string {
  try {
    app.synth();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('synth passed, but a finding was expected to fail it');
}

test('a non-compliant resource fails synth, with findings of both packs naming rule and resource', () => {
  const message = synthError(appWith((stack) => new iam.User(stack, 'Careless').addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }))));
  expect(message).toContain('AwsSolutions-IAM5[Action::s3:*]');
  expect(message).toContain('NIST.800.53.R5-IAMNoInlinePolicy');
  expect(message).toContain('NIST.800.53.R5-IAMUserNoPolicies');
  expect(message).toContain(`${stackName(govcloud)}/Careless/DefaultPolicy/Resource`);
});

test('the wildcard acknowledgement covers the role policy only, not another policy in the same stack', () => {
  const message = synthError(
    appWith(
      (stack) => new iam.ManagedPolicy(stack, 'Other', { statements: [new iam.PolicyStatement({ actions: ['ecr:DescribeRepositories'], resources: ['*'] })] }),
    ),
  );
  expect(message).toContain('AwsSolutions-IAM5[Resource::*]');
  expect(message).toContain(`${stackName(govcloud)}/Other/Resource`);
  expect(message).not.toContain(`${stackName(govcloud)}/Role/Policy/Resource`);
});

test('a stack deployed with cli-credentials refuses assets at construction', () => {
  expect(() => appWith((stack) => new s3assets.Asset(stack, 'Code', { path: path.join(__dirname) }))).toThrow(
    `${stackName(govcloud)}: the cli-credentials synthesizer deploys into accounts without a CDK bootstrap bucket, so it cannot publish file assets`,
  );
});

test('a cli-credentials target too large to send inline in one template is split into stacks that each fit (checked on the written YAML)', () => {
  const repositories = Array.from({ length: 60 }, (_, i) => ({ name: `team/app-${i}` }));
  const dir = configVariant({ 'shared.yaml': { repositories } });
  try {
    const variant = loadConfig(dir);
    const assembly = synthAwsApp(createAwsApp(variant, { notice: () => {} }));
    for (const target of variant.destinations.filter((t) => t.synthesizer === 'cli-credentials')) {
      const stacks = assembly.stacks.filter((s) => s.stackName === stackName(target) || s.stackName.startsWith(`${stackName(target)}-repositories-`));
      expect(stacks.length).toBeGreaterThan(1);
      for (const s of stacks) expect(Buffer.byteLength(stringify(s.template))).toBeLessThanOrEqual(51_200);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
