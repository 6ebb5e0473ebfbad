/**
 * The CDK CLI's entry point (cdk.json "app"). Config directory: `-c config=<dir>`, else
 * FERRY_CONFIG, else ./config.
 */
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { createAwsApp } from '../lib/aws/app';
import { configDir, loadConfig } from '../lib/config/load';
import { ConfigError } from '../lib/config/problems';

// CLI context reaches the app only through an App; this one is never synthesized.
const fromContext: unknown = new App({ autoSynth: false }).node.tryGetContext('config');

try {
  const config = loadConfig(typeof fromContext === 'string' ? path.resolve(fromContext) : configDir());
  createAwsApp(config).synth();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
