/**
 * AWS Control Tower's proactive controls, run on every synth next to cdk-nag: the published
 * cfn-guard rules (bundled, with the cfn-guard binary, by @cdklabs/cdk-validator-cfnguard) through
 * CDK's policy validation. Organisations that turn these controls on as CloudFormation hooks
 * block any deploy that fails one, so a finding fails synth, and each acknowledged failure carries
 * its reason into cdk.out/validation-report.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { type IPolicyValidationContext, type IPolicyValidationPlugin, type PolicyValidationPluginReport, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The plugin's name: the prefix of its rule ids in acknowledgements and in the report. */
export const CONTROL_TOWER_PLUGIN = 'cdk-validator-cfnguard';

/** The cfn-guard rule behind CT.ECR.PR.3 ("ImageTagMutability must be IMMUTABLE"). */
export const CT_ECR_PR_3 = `${CONTROL_TOWER_PLUGIN}::ecr_private_tag_immutability_enabled_check`;

/** The Control Tower rules the validator package ships (the directory its default mode runs). */
export const CONTROL_TOWER_RULES = path.join(
  path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')),
  'rules',
  'control-tower',
  'cfn-guard',
);

interface RuleFile {
  readonly file: string;
  /** The resource types the rule names; empty means it may apply to any template. */
  readonly types: ReadonlySet<string>;
}

/**
 * Runs every Control Tower rule that can apply to the synthesized templates.
 *
 * - Rule selection: a rule only evaluates the resource types it names (every published rule
 *   starts `Resources.*[ Type == "AWS::..." ]` and is skipped when there are none), so rules naming
 *   no type present in any template are left out; a rule naming no type at all is always run.
 *   This gives the same findings as running all ~240 rules, at a fraction of the cfn-guard time
 *   (measured with the cfn-guard binary on the example config, on a loaded 2-core machine: 0.2-1.0 s instead of 2.0-4.4 s).
 * - Severity: the validator sets none, and once any of its findings is acknowledged aws-cdk-lib
 *   recomputes the plugin's success from severities alone, so unacknowledged findings without
 *   one would pass synth silently. Every finding is marked `error`.
 */
export class ControlTowerChecks implements IPolicyValidationPlugin {
  readonly name = CONTROL_TOWER_PLUGIN;
  readonly version = new CfnGuardValidator({ controlTowerRulesEnabled: false }).version;
  private readonly rules: readonly RuleFile[] = ruleFiles(CONTROL_TOWER_RULES);
  // The control ids as the validator names them (ct-ecr-pr-3.guard -> ecrpr3).
  readonly ruleIds = this.rules.map((r) => path.parse(r.file).name.replace('ct-', '').replace(/-/g, ''));

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const present = new Set(context.templatePaths.flatMap(resourceTypes));
    const selected = this.rules.filter((r) => r.types.size === 0 || [...r.types].some((t) => present.has(t))).map((r) => r.file);
    if (selected.length === 0) return { success: true, violations: [] };
    const report = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: selected }).validate(context);
    return { ...report, violations: report.violations.map((v) => ({ ...v, severity: v.severity ?? 'error' })) };
  }
}

function ruleFiles(dir: string): RuleFile[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return ruleFiles(file);
    if (!entry.name.endsWith('.guard')) return [];
    return [{ file, types: new Set(fs.readFileSync(file, 'utf8').match(/AWS::[A-Za-z0-9]+::[A-Za-z0-9]+/g) ?? []) }];
  });
}

function resourceTypes(templatePath: string): string[] {
  const template = JSON.parse(fs.readFileSync(templatePath, 'utf8')) as { Resources?: Record<string, { Type?: string }> };
  return Object.values(template.Resources ?? {}).flatMap((r) => (r.Type ? [r.Type] : []));
}

export function controlTowerChecks(): IPolicyValidationPlugin {
  return new ControlTowerChecks();
}

/** Records why a construct may fail a control; the validation report shows the reason. */
export function acknowledgeControl(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
