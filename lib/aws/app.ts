/**
 * The CDK app: one TargetStack per target (the build account and every destination), checked by
 * cdk-nag's AwsSolutions and NIST 800-53 R5 packs and AWS Control Tower's proactive controls on every synth.
 */
import { App, Validations } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import type { FerryConfig } from '../config/model';
import { allTargets } from '../config/naming';
import { controlTowerChecks } from './control-tower';
import { addDoctorRoles } from './doctor-role';
import { providerNotices } from './providers';
import { TargetStack } from './target-stack';

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
    context: featureFlags(config),
    // No AWS::CDK::Metadata resource: the templates hold only what ferry declares.
    analyticsReporting: false,
  });
  for (const target of allTargets(config)) new TargetStack(app, { config, target });
  // After every stack exists: the doctor's read-only role may read what they contain.
  addDoctorRoles(app, config);
  const notice = opts.notice ?? ((line: string) => process.stderr.write(`${line}\n`));
  for (const line of providerNotices(config)) notice(line);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), controlTowerChecks());
  return app;
}
