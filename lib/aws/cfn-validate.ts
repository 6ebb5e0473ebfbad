/**
 * aws-cdk-lib's built-in template validation ("CloudFormation Validate", the
 * @aws/cloudformation-validate engine: each resource against CloudFormation's resource schema,
 * plus cfn-lint's rules), run on every synth. ferry sets the recommended feature flag
 * `@aws-cdk/core:validateAgainstDefaultRules`, so its errors fail synth (without the flag they
 * would only be warnings); it is the one check of each property's type, pattern and range
 * against CloudFormation's own schema before deploy.
 *
 * Registered here in place of aws-cdk-lib's default instance (which registering any
 * CloudFormationValidatePlugin replaces) only to read repositories of one class once per template
 * (check-dedup.ts): the engine's time grows with the resources it reads. Its rules that read the
 * template as a whole rather than one resource keep the same verdict:
 * - resource count and template size (F0007, E3010, E1002): a template with more than 500
 *   resources or more than 1,000,000 bytes is read in full;
 * - unique primary identifiers (E3019, the repository name): a template with two repositories of
 *   one name is read in full (check-dedup.ts);
 * - references, dependencies and cycles (F1010, F1020, E3005, F3004): every resource a kept
 *   resource references is kept.
 * - the repository name's schema (2-256 characters; segments separated by `/`, each runs of
 *   lowercase letters and digits joined by single `.`, `_` or `-`): names of one class have the
 *   same summary (`nameSummary` in check-dedup.ts), and the schema cannot tell apart names of one summary.
 * Every other rule reads one resource, and repositories of one class are equal in everything else.
 */
import { CloudFormationValidatePlugin, type IPolicyValidationContext, type PolicyValidationPluginReport } from 'aws-cdk-lib';
import { expandReport, sharedReduction } from './check-dedup';

/** CloudFormation's per-template limits that the engine's template-wide rules compare against. */
const FULL_READ = { resources: 500, bytes: 1_000_000 };

export class DeduplicatingCloudFormationValidate extends CloudFormationValidatePlugin {
  override validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const reduced = sharedReduction(context.templatePaths).templates.filter((t) => t.resources <= FULL_READ.resources && t.bytes <= FULL_READ.bytes);
    const checked = new Map(reduced.map((t) => [t.original, t.checked]));
    const report = super.validate({
      ...context,
      templatePaths: context.templatePaths.map((p) => checked.get(p) ?? p),
      stackTemplates: context.stackTemplates.map((s) => ({ ...s, templatePath: checked.get(s.templatePath) ?? s.templatePath })),
    });
    return expandReport(report, reduced);
  }
}

let instance: DeduplicatingCloudFormationValidate | undefined;

/** One instance per process, as aws-cdk-lib keeps its default one: building the engine costs seconds. */
export function cloudFormationValidate(): DeduplicatingCloudFormationValidate {
  instance ??= new DeduplicatingCloudFormationValidate();
  return instance;
}
