/**
 * The Control Tower rules and CloudFormation's template validation read repositories of one class
 * once (lib/aws/check-dedup.ts): one repository that differs among many identical ones is still
 * reported, by its own logical ID, and a finding on a class is reported for every member.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { cloudFormationValidate } from '../../lib/aws/cfn-validate';
import { nameSummary, reduceTemplate } from '../../lib/aws/check-dedup';
import { acknowledgeControl, CONTROL_TOWER_PLUGIN, ControlTowerChecks, CT_ECR_PR_3 } from '../../lib/aws/control-tower';
import { tempDir } from '../support/config-fixture';

const MANY = 30;

interface Built {
  readonly report: any;
  readonly ids: Map<string, string>;
  readonly failed: boolean;
}

/** One stack of MANY compliant repositories, `edit` changing some; synthesized with both checks. */
function synth(edit: (i: number, repository: ecr.CfnRepository) => void): Built {
  const outdir = tempDir('ferry-dedup-');
  const app = new App({ outdir, context: { [cxapi.VALIDATE_AGAINST_DEFAULT_RULES]: true } });
  const stack = new Stack(app, 'Dedup', { env: { account: '111111111111', region: 'us-east-1' } });
  const ids = new Map<string, string>();
  for (let i = 0; i < MANY; i++) {
    const repository = new ecr.CfnRepository(stack, `Repo${i}`, {
      repositoryName: `team-${i % 3}/service-${i}`,
      imageScanningConfiguration: { scanOnPush: true },
      imageTagMutability: 'IMMUTABLE',
      lifecyclePolicy: {
        lifecyclePolicyText: JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 },
              action: { type: 'expire' },
            },
          ],
        }),
      },
    });
    edit(i, repository);
    ids.set(stack.getLogicalId(repository), `Repo${i}`);
  }
  Validations.of(app).addPlugins(new ControlTowerChecks(), cloudFormationValidate());
  let failed = false;
  const quiet = [jest.spyOn(console, 'error').mockImplementation(() => undefined), jest.spyOn(process.stderr, 'write').mockImplementation(() => true)];
  try {
    app.synth();
  } catch {
    failed = true;
  } finally {
    for (const spy of quiet) spy.mockRestore();
  }
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
  fs.rmSync(outdir, { recursive: true, force: true });
  return { report, ids, failed };
}

/** Construct ids of the repositories a plugin reports, unsuppressed or suppressed, per rule. */
function reported(built: Built, plugin: string, kind: 'violations' | 'suppressedViolations'): string[] {
  const report = built.report.pluginReports.find((r: any) => r.pluginName === plugin);
  return (report?.[kind] ?? [])
    .flatMap((v: any) => v.violatingConstructs.map((c: any) => `${v.ruleName} ${built.ids.get(c.cloudFormationResource?.logicalId) ?? c.constructPath}`))
    .sort();
}

test('one repository of many with another tag mutability is the one Control Tower finding, under its own logical ID', () => {
  const built = synth((i, r) => {
    if (i === 17) r.imageTagMutability = 'MUTABLE';
  });
  expect(built.failed).toBe(true);
  expect(reported(built, CONTROL_TOWER_PLUGIN, 'violations')).toEqual(['ecr_private_tag_immutability_enabled_check Repo17']);
});

test('a finding on a class is reported for every repository of it, and each acknowledgement applies to its own repository only', () => {
  const built = synth((i, r) => {
    r.imageTagMutability = 'MUTABLE';
    if (i !== 5) acknowledgeControl(r, CT_ECR_PR_3, 'test');
  });
  expect(built.failed).toBe(true);
  expect(reported(built, CONTROL_TOWER_PLUGIN, 'violations')).toEqual(['ecr_private_tag_immutability_enabled_check Repo5']);
  expect(reported(built, CONTROL_TOWER_PLUGIN, 'suppressedViolations')).toHaveLength(MANY - 1);
});

test('a schema error of one repository among many is reported by the template validation for that repository only', () => {
  const built = synth((i, r) => {
    if (i === 23) r.imageTagMutability = 'SOMETIMES';
  });
  expect(built.failed).toBe(true);
  const validate = reported(built, 'CloudFormation Validate', 'violations');
  expect(validate.length).toBeGreaterThan(0);
  expect(new Set(validate.map((v) => v.split(' ')[1]))).toEqual(new Set(['Repo23']));
});

test('a repository name the schema refuses is reported for that repository, though its class is otherwise equal', () => {
  const built = synth((i, r) => {
    if (i === 11) r.repositoryName = 'Team/Upper';
  });
  expect(built.failed).toBe(true);
  const validate = reported(built, 'CloudFormation Validate', 'violations');
  expect(new Set(validate.map((v) => v.split(' ')[1]))).toEqual(new Set(['Repo11']));
});

test('repositories of one class are reduced to one; two of one name leave the template as it is', () => {
  const repo = (name: string) => ({ Type: 'AWS::ECR::Repository', Properties: { RepositoryName: name, ImageTagMutability: 'IMMUTABLE' } });
  const reduced = reduceTemplate({ Resources: { A: repo('a/x'), B: repo('a/y'), C: { ...repo('a/z'), Properties: { RepositoryName: 'a/z' } } } });
  expect(Object.keys(reduced?.template.Resources ?? {})).toEqual(['A', 'C']);
  expect(reduced?.classes.get('A')).toEqual(['A', 'B']);
  expect(reduceTemplate({ Resources: { A: repo('a/x'), B: repo('a/x') } })).toBeUndefined();
  // A repository another resource references stays in the copy.
  const referenced = reduceTemplate({ Resources: { A: repo('a/x'), B: repo('a/y'), P: { Type: 'AWS::IAM::Role', DependsOn: 'B' } } });
  expect(Object.keys(referenced?.template.Resources ?? {}).sort()).toEqual(['A', 'B', 'P']);
});

test('name summaries: equal for names the ECR pattern cannot tell apart, distinct otherwise', () => {
  expect(nameSummary('team-01/app')).toBe(nameSummary('team-02/service9'));
  for (const bad of ['Team/app', 'team//app', 'team-/app', 'a', 'x'.repeat(257)]) expect(nameSummary(bad)).not.toBe(nameSummary('team-01/app'));
});
