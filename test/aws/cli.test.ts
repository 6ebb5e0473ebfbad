/**
 * The CDK CLI entry point through the real `cdk` CLI and cdk.json, with no AWS credentials:
 * listing, choosing the config directory, and failing cleanly on bad config.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configVariant } from './synth';

const ROOT = path.resolve(__dirname, '../..');
const dirs: string[] = [];

afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function cdk(args: string[], env: Record<string, string> = {}) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cdk-out-'));
  dirs.push(outdir);
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|CDK_|FERRY_)/.test(k)));
  const result = spawnSync(path.join(ROOT, 'node_modules/.bin/cdk'), [...args, '--output', outdir], {
    cwd: ROOT,
    encoding: 'utf8',
    // No credentials of any kind, and no instance metadata: synth must not need AWS.
    env: { ...clean, AWS_EC2_METADATA_DISABLED: 'true', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_CONFIG_FILE: '/dev/null', ...env },
  });
  return { ...result, outdir };
}

test('cdk ls lists one stack per target and one doctor stack per account, offline and without credentials; -c config=<dir> wins over FERRY_CONFIG', () => {
  const bad = configVariant({ 'aws-us-gov.yaml': { 'destinations.0.region': 'us-east-1' } });
  const renamed = configVariant({ 'aws-us-gov.yaml': { 'destinations.0.name': 'gov-prod' } });
  dirs.push(bad, renamed);
  const { status, stdout, stderr } = cdk(['ls', '-c', `config=${renamed}`], { FERRY_CONFIG: bad });
  expect(stderr).not.toMatch(/error/i);
  expect(status).toBe(0);
  expect(stdout.trim().split('\n')).toEqual([
    'ferry-build',
    'ferry-china',
    'ferry-gov-prod',
    'ferry-build-doctor',
    'ferry-china-doctor',
    'ferry-gov-prod-doctor',
  ]);
});

test('a bad config exits 1 with its one-line reason and writes no template', () => {
  const bad = configVariant({ 'aws-us-gov.yaml': { 'destinations.0.region': 'us-east-1' } });
  dirs.push(bad);
  const failed = cdk(['synth', '--quiet'], { FERRY_CONFIG: bad });
  expect(failed.status).toBe(1);
  expect(failed.stderr).toMatch(/aws-us-gov\.yaml:\d+: destinations\[0\]\.region = "us-east-1": .*aws-us-gov/);
  expect(fs.readdirSync(failed.outdir).filter((f) => f.endsWith('.template.json'))).toEqual([]);
});
