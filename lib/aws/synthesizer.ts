/**
 * How a stack reaches CloudFormation: through the CDK bootstrap stack's roles, or with the
 * deployer's own credentials into an account that was never bootstrapped.
 */
import {
  DefaultStackSynthesizer,
  type DockerImageAssetLocation,
  type FileAssetLocation,
  type IStackSynthesizer,
  type ISynthesisSession,
  StackSynthesizer,
} from 'aws-cdk-lib';
import type { Target } from '../config/model';

/** CloudFormation's limit for a template passed inline (TemplateBody) rather than from S3. */
export const INLINE_TEMPLATE_LIMIT_BYTES = 51_200;

/** CloudFormation's limit for a template uploaded to S3 (TemplateURL). */
export const S3_TEMPLATE_LIMIT_BYTES = 1_000_000;

/**
 * Deploys with the caller's credentials, template inline, and no assets at all.
 *
 * Written here because none of aws-cdk-lib's synthesizers does exactly this:
 * CliCredentialsStackSynthesizer uploads the template itself to the bootstrap bucket,
 * BootstraplessSynthesizer still names the bootstrap deploy role (the CLI then warns and falls
 * back), and LegacyStackSynthesizer accepts assets that need the bootstrap bucket at deploy time.
 */
export class CallerCredentialsSynthesizer extends StackSynthesizer {
  addFileAsset(): FileAssetLocation {
    throw new Error(
      `${this.boundStack.stackName}: the cli-credentials synthesizer deploys into accounts without a CDK bootstrap bucket, so it cannot publish file assets`,
    );
  }

  addDockerImageAsset(): DockerImageAssetLocation {
    throw new Error(
      `${this.boundStack.stackName}: the cli-credentials synthesizer deploys into accounts without a CDK bootstrap, so it cannot publish container image assets`,
    );
  }

  synthesize(session: ISynthesisSession): void {
    // The inline size limit is checked with every other limit on the written templates (limits.ts).
    this.synthesizeTemplate(session);
    this.emitArtifact(session);
  }
}

/** The synthesizer a target's config asks for. */
export function synthesizerFor(target: Target): IStackSynthesizer {
  return target.synthesizer === 'cli-credentials' ? new CallerCredentialsSynthesizer() : new DefaultStackSynthesizer();
}
