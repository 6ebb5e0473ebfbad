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
import { DEDUPLICATED_TYPE, expandReport, NAME_PROPERTY, sharedReduction } from './check-dedup';

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

export interface RuleFile {
  readonly file: string;
  /** The resource types the rule names; empty means it may apply to any template. */
  readonly types: ReadonlySet<string>;
  /** Whether the rule's text names the repository name property. */
  readonly readsName: boolean;
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
 * - Repositories that differ only in their names are evaluated once per template (check-dedup.ts),
 *   and each finding is reported for every one of them, under its own logical ID: the published
 *   ECR rules (CT.ECR.PR.1-3) each read one repository's `Properties` (never `RepositoryName`) and
 *   the template only for "a template with at least one repository", and no rule naming the ECR
 *   type names another type. The deduplication is used only while the selected rules are such
 *   (`deduplicates`), else every repository is evaluated. cfn-guard's time grows with the
 *   resources it reads: at 1,000 repositories x 30 destinations, about 31,000 repositories.
 */
export class ControlTowerChecks implements IPolicyValidationPlugin {
  readonly name = CONTROL_TOWER_PLUGIN;
  readonly version = new CfnGuardValidator({ controlTowerRulesEnabled: false }).version;
  private readonly rules: readonly RuleFile[] = ruleFiles(CONTROL_TOWER_RULES);
  // The control ids as the validator names them (ct-ecr-pr-3.guard -> ecrpr3).
  readonly ruleIds = this.rules.map((r) => path.parse(r.file).name.replace('ct-', '').replace(/-/g, ''));

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const { templates } = sharedReduction(context.templatePaths);
    const present = new Set(templates.flatMap((t) => [...t.types]));
    const selected = this.rules.filter((r) => r.types.size === 0 || [...r.types].some((t) => present.has(t)));
    if (selected.length === 0) return { success: true, violations: [] };
    const validator = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: selected.map((r) => r.file) });
    if (!deduplicates(selected)) return withSeverity(validator.validate(context));
    const report = validator.validate({ ...context, templatePaths: templates.map((t) => t.checked) });
    return withSeverity(expandReport(report, templates));
  }
}

/**
 * Whether repositories of one class may be evaluated once (check-dedup.ts): every selected rule
 * names at least one type (so none reads every resource), a rule naming the repository type names
 * no other, and none names the repository name property.
 */
export function deduplicates(rules: readonly RuleFile[]): boolean {
  return rules.every((r) => r.types.size > 0 && !r.readsName && (!r.types.has(DEDUPLICATED_TYPE) || r.types.size === 1));
}

function withSeverity(report: PolicyValidationPluginReport): PolicyValidationPluginReport {
  return { ...report, violations: report.violations.map((v) => ({ ...v, severity: v.severity ?? 'error' })) };
}

function ruleFiles(dir: string): RuleFile[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return ruleFiles(file);
    if (!entry.name.endsWith('.guard')) return [];
    const text = fs.readFileSync(file, 'utf8');
    return [{ file, types: new Set(text.match(/AWS::[A-Za-z0-9]+::[A-Za-z0-9]+/g) ?? []), readsName: text.includes(NAME_PROPERTY) }];
  });
}

export function controlTowerChecks(): IPolicyValidationPlugin {
  return new ControlTowerChecks();
}

/**
 * Records why a construct may fail a control; the validation report shows the reason.
 *
 * Written as the metadata `Validations.acknowledge` records (its documented key, one `{ id: reason }`
 * entry), without the stack trace acknowledge() captures on every call: here that trace is the same
 * few lines of ferry for every repository, and at 1,000 repositories x 30 destinations capturing
 * them took about 1.7 s of the synth (and wrote this machine's paths into cdk.out). `id` is a
 * control's qualified id (`cdk-validator-cfnguard::<rule>`), the form acknowledge() normalizes to.
 */
export function acknowledgeControl(scope: IConstruct, id: string, reason: string): void {
  scope.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, { [id]: reason });
}
