/**
 * Every entry point this side owns reports a bad config the same way, as a user runs it (child
 * processes): `npm run synth`, `npx cdk synth` and `npm run schema` exit non-zero, print exactly
 * the loader's problem lines and no stack trace, and write nothing. The rules themselves are
 * tested on the loader (rules.test.ts); a few configs suffice here.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { CONFIG_REFERENCE_DOC, SCHEMA_DIR } from '../../lib/config/json-schema';
import { loadConfig } from '../../lib/config/load';
import { ConfigError } from '../../lib/config/problems';
import { copyExampleConfig, REPO_ROOT, tempDir, writeConfig } from '../support/config-fixture';

const bin = (name: string) => path.join(REPO_ROOT, 'node_modules', '.bin', name);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function variant(edit: (dir: string) => void): string {
  const dir = copyExampleConfig();
  dirs.push(dir);
  edit(dir);
  return dir;
}

function setIn(dir: string, file: string, field: string[], value: unknown): void {
  const doc = parseDocument(fs.readFileSync(path.join(dir, file), 'utf8'));
  doc.setIn(field, value);
  writeConfig(dir, file, doc.toString());
}

/** What the loader says about a config: the lines every entry point must print. */
function expectedLines(dir: string): string[] {
  try {
    loadConfig(dir);
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n');
    throw e;
  }
  throw new Error('config unexpectedly valid');
}

const BAD: [string, () => string][] = [
  [
    'an unknown region and a reserved tag key, in two files',
    () => variant((d) => (setIn(d, 'aws-cn.yaml', ['destinations', 0, 'region'] as never, 'cn-north-9'), setIn(d, 'build.yaml', ['tags', 'aws:owner'], 'x'))),
  ],
  ['a shared.yaml that is a list', () => variant((d) => writeConfig(d, 'shared.yaml', '- name: ferry/demo-app\n'))],
  [
    '60 tags and a { in a tag value (once CloudFormation validation reports)',
    () =>
      variant(
        (d) => (
          setIn(d, 'build.yaml', ['tags'], Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, 'v']))),
          setIn(d, 'aws-us-gov.yaml', ['destinations', 0, 'tags', 'owner'] as never, 'a{b')
        ),
      ),
  ],
  ['FIPS in China', () => variant((d) => setIn(d, 'aws-cn.yaml', ['destinations', 0, 'fips'] as never, true))],
];

const cleanEnv = (config: string) => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|CDK_|FERRY_)/.test(k))),
  FERRY_CONFIG: config,
  AWS_EC2_METADATA_DISABLED: 'true',
});

function snapshot(files: string[]): string[] {
  return files.map((f) => `${f} ${fs.statSync(f).mtimeMs} ${fs.readFileSync(f, 'utf8').length}`);
}

describe.each(BAD)('%s', (_name, make) => {
  let config: string;
  let expected: string[];
  beforeAll(() => {
    config = make();
    expected = expectedLines(config);
    // The contract the entry points share: file:line: field = value: what is wrong (what would be valid).
    for (const line of expected) expect(line).toMatch(/^\S+\.yaml:\d+: \S+.*: .+\(.+\)$/);
  });

  const noTrace = (stderr: string) => expect(stderr).not.toMatch(/^\s+at |Error:|node:internal/m);

  test('npm run synth: exit 2, the problem lines only, nothing written', () => {
    const out = tempDir();
    dirs.push(out);
    const result = spawnSync(bin('tsx'), ['bin/synth.ts', '--out', out], { cwd: REPO_ROOT, encoding: 'utf8', env: cleanEnv(config) });
    expect(result.status).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toEqual(expected);
    noTrace(result.stderr);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  test("npx cdk synth: exit 1, the problem lines and the CLI's closing line, no template", () => {
    const out = tempDir();
    dirs.push(out);
    const result = spawnSync(bin('cdk'), ['synth', '--quiet', '--output', out], { cwd: REPO_ROOT, encoding: 'utf8', env: cleanEnv(config) });
    expect(result.status).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.slice(0, -1)).toEqual(expected);
    expect(lines.at(-1)).toMatch(/: Subprocess exited with error 2$/);
    noTrace(result.stderr);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  test('npm run schema: exit 2, the problem lines only, schemas and reference untouched', () => {
    const generated = [CONFIG_REFERENCE_DOC, ...fs.readdirSync(SCHEMA_DIR).map((f) => path.join(SCHEMA_DIR, f))];
    const before = snapshot(generated);
    const result = spawnSync(bin('tsx'), ['bin/schema.ts'], { cwd: REPO_ROOT, encoding: 'utf8', env: cleanEnv(config) });
    expect(result.status).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toEqual(expected);
    noTrace(result.stderr);
    expect(snapshot(generated)).toEqual(before);
  });
});
