/**
 * AWS Control Tower's proactive controls, run on every synth next to cdk-nag: the published
 * cfn-guard rules (bundled, with the cfn-guard binary, by @cdklabs/cdk-validator-cfnguard) through
 * CDK's policy validation. Organisations that turn these controls on as CloudFormation hooks
 * block any deploy that fails one, so a finding fails synth, and each acknowledged failure carries
 * its reason into cdk.out/validation-report.json.
 */
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The plugin's name: the prefix of its rule ids in acknowledgements and in the report. */
export const CONTROL_TOWER_PLUGIN = 'cdk-validator-cfnguard';

/** The cfn-guard rule behind CT.ECR.PR.3 ("ImageTagMutability must be IMMUTABLE"). */
export const CT_ECR_PR_3 = `${CONTROL_TOWER_PLUGIN}::ecr_private_tag_immutability_enabled_check`;

/**
 * The cfn-guard validator with every finding marked `error`. The validator leaves severity unset,
 * and once any finding of the plugin is acknowledged, aws-cdk-lib recomputes the plugin's success
 * from severities alone: unacknowledged findings without one would then pass synth silently.
 */
export class ControlTowerChecks implements IPolicyValidationPlugin {
  readonly name = CONTROL_TOWER_PLUGIN;
  private readonly guard = new CfnGuardValidator({ controlTowerRulesEnabled: true });
  readonly version = this.guard.version;
  readonly ruleIds = this.guard.ruleIds;

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const report = this.guard.validate(context);
    return { ...report, violations: report.violations.map((v) => ({ ...v, severity: v.severity ?? 'error' })) };
  }
}

export function controlTowerChecks(): IPolicyValidationPlugin {
  return new ControlTowerChecks();
}

/** Records why a construct may fail a control; the validation report shows the reason. */
export function acknowledgeControl(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
