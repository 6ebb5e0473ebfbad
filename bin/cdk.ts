/**
 * The CDK CLI's entry point (cdk.json "app"). Config directory: `-c config=<dir>`, else
 * FERRY_CONFIG, else ./config.
 */
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { createAwsApp, synthAwsApp } from '../lib/aws/app';
import { runCli } from '../lib/cli-errors';
import { configDir, loadConfig } from '../lib/config/load';

// CLI context reaches the app only through an App; this one is never synthesized.
const fromContext: unknown = new App({ autoSynth: false }).node.tryGetContext('config');

runCli(() => {
  const config = loadConfig(typeof fromContext === 'string' ? path.resolve(fromContext) : configDir());
  synthAwsApp(createAwsApp(config));
});
