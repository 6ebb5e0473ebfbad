/**
 * The CDK app: one TargetStack per target (the build account and every destination), checked by
 * cdk-nag's AwsSolutions and NIST 800-53 R5 packs and AWS Control Tower's proactive controls on every synth.
 */
import { App, type Stack, Validations } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import type { FerryConfig, Target } from '../config/model';
import { allTargets, repositoryStackGlob, stackName } from '../config/naming';
import { cloudFormationValidate } from './cfn-validate';
import { releaseSharedReduction } from './check-dedup';
import { controlTowerChecks } from './control-tower';
import { addDoctorRoles } from './doctor-role';
import { assemblyTemplates, assertWithinLimits } from './limits';
import { providerNotices } from './providers';
import { addTargetStacks, STACK_RESOURCE_LIMIT } from './stack-split';
import type { TargetStack } from './target-stack';

export interface AwsAppOptions {
  /** Where synth writes the cloud assembly. @default - the CDK CLI's choice (CDK_OUTDIR), else a temp dir */
  readonly outdir?: string;
  /**
   * Receives what the deployer must know once per synth: the client ID each imported OIDC provider
   * must list, and which stack deploys before which (providers.ts).
   * @default - one line each on stderr
   */
  readonly notice?: (line: string) => void;
}

/** For a target in several stacks: which, and the one command that deploys them all; then every role whose grants moved into repository policies. */
function splitNotices(target: Target, stacks: readonly Stack[]): string[] {
  const head = stacks[0] as TargetStack;
  const lines = [...head.access.notices];
  if (stacks.length > 1) {
    lines.unshift(
      `ferry: ${stackName(target)} is split into ${stacks.length} stacks to stay within CloudFormation's limits (${STACK_RESOURCE_LIMIT} resources and the template size per stack): ${stacks.map((s) => s.stackName).join(', ')}; deploy them all with npx cdk deploy ${stackName(target)} '${repositoryStackGlob(target)}'`,
    );
  }
  return lines;
}

/**
 * Feature flags live here, not in cdk.json, so every entry point (the CDK CLI, `npm run synth`,
 * tests) synthesizes the same templates. They are the recommended set of the locked aws-cdk-lib
 * version; an upgrade of aws-cdk-lib may change them, and the assertion tests run against the result.
 */
export function featureFlags(config: FerryConfig): Record<string, unknown> {
  return {
    ...cxapi.CURRENTLY_RECOMMENDED_FLAGS,
    // `arn:aws-us-gov:` / `arn:aws-cn:` written literally instead of `${AWS::Partition}`.
    [cxapi.ENABLE_PARTITION_LITERALS]: true,
    // The partitions this app deploys to, instead of the recommended default ["aws", "aws-cn"].
    [cxapi.TARGET_PARTITIONS]: [...new Set(allTargets(config).map((t) => t.partition.id))],
  };
}

export function createAwsApp(config: FerryConfig, opts: AwsAppOptions = {}): App {
  const app = new App({
    outdir: opts.outdir,
    context: {
      ...featureFlags(config),
      // Nor one per resource at its creation (a separate switch; `cdk --debug` turns it back on):
      // at 1,000 x 30 they cost about 2 s, and only the validation report showed them, as lines
      // of ferry's own source next to the construct path that already names the resource.
      [cxapi.DISABLE_CREATION_STACK_TRACES]: true,
    },
    // No AWS::CDK::Metadata resource: the templates hold only what ferry declares.
    analyticsReporting: false,
    // No construct stack traces in cdk.out metadata: capturing one per construct (source-mapped
    // under tsx) cost about 9 % of a 1,000 x 30 synth (55 s -> 50 s), and no check reads them.
    stackTraces: false,
  });
  const notice = opts.notice ?? ((line: string) => process.stderr.write(`${line}\n`));
  for (const target of allTargets(config)) {
    const stacks = addTargetStacks(app, { config, target });
    for (const line of splitNotices(target, stacks)) notice(line);
  }
  // After every stack exists: the doctor's read-only role may read what they contain.
  for (const line of addDoctorRoles(app, config)) notice(line);
  for (const line of providerNotices(config)) notice(line);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), controlTowerChecks(), cloudFormationValidate());
  return app;
}

/**
 * Synthesizes the app and checks every template against AWS's limits (limits.ts): a template over
 * a limit throws one line per finding, as a user-facing error (exit 2).
 */
export function synthAwsApp(app: App): CloudAssembly {
  let assembly: CloudAssembly;
  try {
    assembly = app.synth();
  } finally {
    releaseSharedReduction();
  }
  assertWithinLimits(assemblyTemplates(assembly));
  return assembly;
}
