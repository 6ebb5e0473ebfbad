/**
 * `cdk8s synth` entry point (see cdk8s.yaml): validates and writes the charts of the config in
 * FERRY_CONFIG or ./config. A bad config or an Argo validation finding prints one line per
 * problem and writes nothing.
 */
import { runCli } from '../lib/cli-errors';
import { loadConfig } from '../lib/config/load';
import { synthK8s } from '../lib/k8s/app';

runCli(() => synthK8s(loadConfig()));

// Under `cdk8s synth` (which sets CDK8S_OUTDIR), a non-zero exit makes the CLI print its own
// stack trace after our lines. Exiting 0 without creating the output directory makes it fail
// with exit 1 and one line of its own ("app expected to create ...") instead.
if (process.exitCode && process.env.CDK8S_OUTDIR) process.exitCode = 0;
