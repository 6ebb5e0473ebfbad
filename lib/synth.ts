/**
 * `npm run synth`: CloudFormation into cdk.out/ and Kubernetes YAML into dist/, from one config.
 *
 * Both apps synthesize into a staging directory first and replace the outputs only when both
 * succeeded, so a bad config, a cdk-nag finding or an Argo validation finding never leaves a
 * half-written cdk.out/ or dist/ behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createAwsApp, synthAwsApp } from './aws/app';
import { writeDoctorPlan } from './aws/plan';
import { loadConfig } from './config/load';
import type { FerryConfig } from './config/model';
import { synthK8s } from './k8s/app';

export const CDK_OUT = 'cdk.out';
export const DIST = 'dist';

export interface SynthOptions {
  readonly configDir: string;
  /** Where cdk.out/ and dist/ go. */
  readonly outRoot: string;
}

export interface SynthResult {
  readonly config: FerryConfig;
  /** The CloudFormation stacks written, by name. */
  readonly stacks: readonly string[];
}

export function synthesize(opts: SynthOptions): SynthResult {
  const config = loadConfig(opts.configDir);
  let stacks: string[] = [];
  fs.mkdirSync(opts.outRoot, { recursive: true });
  // Staged beside the outputs so the final renames stay on one filesystem.
  const staging = fs.mkdtempSync(path.join(opts.outRoot, '.ferry-synth-'));
  try {
    // Fails on a cdk-nag or Control Tower finding, and on a template over an AWS limit (limits.ts).
    const app = createAwsApp(config, { outdir: path.join(staging, CDK_OUT) });
    const assembly = synthAwsApp(app);
    stacks = assembly.stacks.map((s) => s.stackName);
    // What `ferry doctor` reads besides the templates (lib/aws/plan.ts).
    writeDoctorPlan(config, app, path.join(staging, CDK_OUT));
    // Fails on an Argo validation finding, as the AWS app fails on a cdk-nag finding.
    synthK8s(config, { outdir: path.join(staging, DIST) });
    for (const dir of [CDK_OUT, DIST]) replaceDir(path.join(staging, dir), path.join(opts.outRoot, dir));
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return { config, stacks };
}

function replaceDir(from: string, to: string): void {
  fs.rmSync(to, { recursive: true, force: true });
  fs.renameSync(from, to);
}
