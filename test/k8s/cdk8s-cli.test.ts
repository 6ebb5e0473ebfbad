/**
 * `npx cdk8s synth` as a user runs it (cdk8s.yaml → bin/k8s.ts): one line per problem and nothing
 * written for a bad config, and no network call for a good one.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyExampleConfig, editConfig, REPO_ROOT, tempDir } from '../support/config-fixture';

function cdk8sSynth(configDir: string, out: string, env: Record<string, string> = { CDK8S_CHECK_UPGRADE: 'false' }) {
  return spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk8s'), ['synth', '--output', out], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, FERRY_CONFIG: configDir, ...env },
  });
}

test('a bad config: one line for the problem, one from the CLI, no stack trace, non-zero exit, nothing written', () => {
  const config = copyExampleConfig();
  editConfig(config, 'aws-cn.yaml', 'region: cn-north-1', 'region: us-east-1');
  const out = path.join(tempDir(), 'dist');
  const result = cdk8sSynth(config, out);
  expect(result.status).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(2);
  // The wording is the config check's; this test is about how the entry point reports it.
  expect(lines[0]).toMatch(/aws-cn\.yaml:7: destinations\[0\]\.region = "us-east-1": \S/);
  expect(lines[1]).toBe(`ERROR: synthesis failed, app expected to create "${out}"`);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(fs.existsSync(out)).toBe(false);
});

test('a good config with the upgrade check off: nothing on stderr (no network call was tried), every chart written', () => {
  const out = path.join(tempDir(), 'dist');
  const result = cdk8sSynth(copyExampleConfig(), out);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(fs.readdirSync(out).filter((f) => f.endsWith('.k8s.yaml')).length).toBeGreaterThan(5);
});
