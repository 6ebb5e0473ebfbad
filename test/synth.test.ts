/** `npm run synth` end to end, as a user runs it: a child process, its exit code and its files. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyExampleConfig, editConfig, REPO_ROOT, tempDir } from './support/config-fixture';

function synth(configDir: string, out: string) {
  return spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [path.join(REPO_ROOT, 'bin', 'synth.ts'), '--out', out], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, FERRY_CONFIG: configDir },
  });
}

describe('npm run synth', () => {
  test('writes every stack template and every chart from the example config', () => {
    const out = tempDir();
    const result = synth(copyExampleConfig(), out);
    // One stack per target, and one doctor stack per account (three accounts).
    expect(result.stderr).toContain('ferry: synthesized 6 stacks');
    expect(result.status).toBe(0);
    const templates = fs.readdirSync(path.join(out, 'cdk.out')).filter((f) => f.endsWith('.template.json'));
    expect(templates.sort()).toEqual([
      'ferry-build-doctor.template.json',
      'ferry-build.template.json',
      'ferry-china-doctor.template.json',
      'ferry-china.template.json',
      'ferry-govcloud-doctor.template.json',
      'ferry-govcloud.template.json',
    ]);
    expect(fs.readdirSync(path.join(out, 'dist')).filter((f) => f.endsWith('.yaml')).length).toBeGreaterThan(0);
    expect(fs.readdirSync(out).sort()).toEqual(['cdk.out', 'dist']);
  });

  test('a bad config exits non-zero, prints the problem, and leaves no output behind', () => {
    const out = tempDir();
    const config = copyExampleConfig();
    editConfig(config, 'aws-cn.yaml', 'region: cn-north-1', 'region: us-east-1');
    const result = synth(config, out);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toMatch(
      /aws-cn\.yaml:7: destinations\[0\]\.region = "us-east-1": is a region of partition aws, not aws-cn \(expected a region of aws-cn, e\.g\. cn-north-1; .*\)$/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(fs.readdirSync(out)).toEqual([]);
  });

  test('a bad config leaves an earlier good output untouched', () => {
    const out = tempDir();
    expect(synth(copyExampleConfig(), out).status).toBe(0);
    const before = fs.readFileSync(path.join(out, 'cdk.out', 'ferry-china.template.json'), 'utf8');
    const config = copyExampleConfig();
    editConfig(config, 'shared.yaml', 'name: ferry/demo-app', 'name: Ferry');
    expect(synth(config, out).status).toBe(2);
    expect(fs.readFileSync(path.join(out, 'cdk.out', 'ferry-china.template.json'), 'utf8')).toBe(before);
    expect(fs.readdirSync(out).sort()).toEqual(['cdk.out', 'dist']);
  });

  test('a FIPS outbound-federation destination whose build region has no FIPS STS is named once, with the region', () => {
    const out = tempDir();
    const config = copyExampleConfig();
    editConfig(config, 'build.yaml', /^region: us-east-1$/m, 'region: eu-west-1');
    editConfig(
      config,
      'aws-us-gov.yaml',
      /$(?![\s\S])/,
      '  - name: gov-fips\n    account: "444444444444"\n    region: us-gov-west-1\n    fips: true\n    synthesizer: cli-credentials\n    trust: outbound-federation\n',
    );
    const result = synth(config, out);
    expect(result.status).toBe(0);
    const lines = result.stderr.split('\n').filter((l) => l.includes('not to a FIPS endpoint'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^ferry: gov-fips \(fips: true, trust: outbound-federation\): .* sts\.eu-west-1\.amazonaws\.com, .*no FIPS STS endpoint in the build region eu-west-1/,
    );
  });
});
