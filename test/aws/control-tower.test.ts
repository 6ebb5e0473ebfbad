/**
 * AWS Control Tower's proactive controls (the published cfn-guard rules) run on every synth: an
 * unacknowledged failure stops it, and the documented all-controls-pass config needs no
 * acknowledgement at all.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import type { Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { createAwsApp } from '../../lib/aws/app';
import { CONTROL_TOWER_PLUGIN, ControlTowerChecks } from '../../lib/aws/control-tower';
import { stackName } from '../../lib/config/naming';
import { loadVariant } from './synth';

test('the all-controls-pass config (IMMUTABLE repositories and cache) passes every control without an acknowledgement', () => {
  const { config, dir } = loadVariant({ 'shared.yaml': { 'repositories.0.tagMutability': 'IMMUTABLE', cacheTagMutability: 'IMMUTABLE' } });
  try {
    const assembly = createAwsApp(config).synth();
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    const controlTower = report.pluginReports.find((r: any) => r.pluginName === CONTROL_TOWER_PLUGIN);
    // The report lists a plugin only when it has something to say: here, nothing.
    expect(controlTower?.violations ?? []).toEqual([]);
    expect(controlTower?.suppressedViolations ?? []).toEqual([]);
    const build = assembly.getStackByName(stackName(config.build)).template;
    const mutability = Object.values(build.Resources as Record<string, any>)
      .filter((r) => r.Type === 'AWS::ECR::Repository')
      .map((r) => r.Properties.ImageTagMutability);
    expect(new Set(mutability)).toEqual(new Set(['IMMUTABLE']));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Also guards ControlTowerChecks' severity: with acknowledged findings elsewhere in the app (the
// default config's), an unacknowledged one must still fail.
test('a resource failing a control without an acknowledgement fails synth, naming the control, the resource and the fix', () => {
  const { config, dir } = loadVariant({});
  try {
    const app = createAwsApp(config);
    new ecr.Repository(app.node.findChild(stackName(config.build)) as Stack, 'Careless', { imageTagMutability: ecr.TagMutability.MUTABLE });
    let message = '';
    const log = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const out = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      app.synth();
    } catch (error) {
      message = `${(error as Error).message}\n${log.mock.calls.flat().join('\n')}\n${out.mock.calls.map((c) => String(c[0])).join('')}`;
    } finally {
      log.mockRestore();
      out.mockRestore();
    }
    expect(message).toContain('A copy of this report can be found in');
    expect(message).toContain('[CT.ECR.PR.3]');
    expect(message).toContain(`${stackName(config.build)}/Careless/Resource`);
    expect(message).toContain("Set 'ImageTagMutability' to 'IMMUTABLE'");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('running only the rules that name a resource type present gives exactly the findings of all rules', () => {
  const { config, dir } = loadVariant({});
  try {
    const app = createAwsApp(config);
    new ecr.Repository(app.node.findChild(stackName(config.build)) as Stack, 'Careless', { imageTagMutability: ecr.TagMutability.MUTABLE });
    // Synth fails on the careless repository, after writing the templates: validate those again.
    expect(() => app.synth()).toThrow('CT.ECR.PR.3');
    const templatePaths = fs
      .readdirSync(app.outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => path.join(app.outdir, f));
    // One stack per target, and one doctor stack per account.
    expect(templatePaths).toHaveLength(2 * (1 + config.destinations.length));
    const context = { templatePaths } as never;
    const findings = (report: { violations: { ruleName: string; violatingResources: { resourceLogicalId: string; templatePath: string }[] }[] }) =>
      report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${path.basename(r.templatePath)} ${r.resourceLogicalId}`)).sort();
    const all = findings(new CfnGuardValidator().validate(context) as never);
    expect(all.length).toBeGreaterThan(0);
    expect(findings(new ControlTowerChecks().validate(context) as never)).toEqual(all);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
