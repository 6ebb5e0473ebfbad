/**
 * How a stack reaches CloudFormation: through the CDK bootstrap stack's roles, or with the
 * deployer's own credentials into an account that was never bootstrapped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DefaultStackSynthesizer,
  type DockerImageAssetLocation,
  type FileAssetLocation,
  type IStackSynthesizer,
  type ISynthesisSession,
  StackSynthesizer,
} from 'aws-cdk-lib';
import { stringify } from 'yaml';
import type { Target } from '../config/model';

/** CloudFormation's limit for a template passed inline (TemplateBody) rather than from S3. */
export const INLINE_TEMPLATE_LIMIT_BYTES = 51_200;

/**
 * Deploys with the caller's credentials, template inline, and no assets at all.
 *
 * Written here because none of aws-cdk-lib's synthesizers does exactly this:
 * CliCredentialsStackSynthesizer uploads the template itself to the bootstrap bucket,
 * BootstraplessSynthesizer still names the bootstrap deploy role (the CLI then warns and falls
 * back), and LegacyStackSynthesizer accepts assets that need the bootstrap bucket at deploy time.
 */
export class CallerCredentialsSynthesizer extends StackSynthesizer {
  /** @param configFile the config file that chose this synthesizer, for messages */
  constructor(private readonly configFile: string) {
    super();
  }

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
    this.synthesizeTemplate(session);
    this.assertFitsInline(path.join(session.outdir, this.boundStack.templateFile));
    this.emitArtifact(session);
  }

  /** Fail at synth, not halfway through a deploy: without a bucket the template must go inline. */
  private assertFitsInline(templatePath: string): void {
    // The CDK CLI sends the template as YAML; measure the same form.
    const size = Buffer.byteLength(stringify(JSON.parse(fs.readFileSync(templatePath, 'utf8'))));
    if (size <= INLINE_TEMPLATE_LIMIT_BYTES) return;
    throw new Error(
      `${this.boundStack.stackName}: the template is ${size} bytes, over CloudFormation's ${INLINE_TEMPLATE_LIMIT_BYTES}-byte limit for templates sent inline, ` +
        `and synthesizer: cli-credentials has no bucket to upload it to (in ${this.configFile}, set synthesizer: bootstrapped and run cdk bootstrap in that account, or configure fewer repositories)`,
    );
  }
}

/** The synthesizer a target's config asks for. */
export function synthesizerFor(target: Target): IStackSynthesizer {
  return target.synthesizer === 'cli-credentials' ? new CallerCredentialsSynthesizer(target.source) : new DefaultStackSynthesizer();
}
