/**
 * The deploy order the real CDK CLI sees (`cdk ls --show-dependencies`, which `cdk deploy` follows),
 * and that a synth through it tells the deployer each provider fact once.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { DOCTOR_STACK_SUFFIX } from '../../lib/config/naming';
import { writeUnseenConfig } from './unseen-config';

const ROOT = path.resolve(__dirname, '../..');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

test('cdk sees each importing stack depend on the stack of its account that creates the provider, and synth says so once', () => {
  const config = writeUnseenConfig();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cdk-out-'));
  dirs.push(config, outdir);
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|CDK_|FERRY_)/.test(k)));
  const result = spawnSync(path.join(ROOT, 'node_modules/.bin/cdk'), ['ls', '--show-dependencies', '-c', `config=${config}`, '--output', outdir], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...clean, AWS_EC2_METADATA_DISABLED: 'true', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_CONFIG_FILE: '/dev/null' },
  });
  expect(result.status).toBe(0);
  const listed = parse(result.stdout) as { id: string; dependencies: { id: string }[] }[];
  const isDoctor = (id: string) => id.endsWith(DOCTOR_STACK_SUFFIX);
  // Every target's stack deploys after its account's doctor stack, which depends on nothing.
  for (const s of listed) expect([s.id, s.dependencies.filter((d) => isDoctor(d.id)).length]).toEqual([s.id, isDoctor(s.id) ? 0 : 1]);
  const deps = Object.fromEntries(listed.filter((s) => !isDoctor(s.id)).map((s) => [s.id, s.dependencies.map((d) => d.id).filter((id) => !isDoctor(id))]));
  expect(deps).toEqual({
    'ferry-ci': [],
    'ferry-cn-a': [],
    'ferry-cn-b': ['ferry-cn-a'],
    'ferry-cn-c': [],
    'ferry-eusc-a': [],
    'ferry-gov-a': [],
    'ferry-gov-b': [],
    'ferry-same-account': ['ferry-ci'],
    'ferry-com-a': [],
    'ferry-com-b': ['ferry-com-a'],
  });
  const notices = result.stderr.split('\n').filter((l) => l.startsWith('ferry: '));
  expect(notices).toHaveLength(4);
  expect(new Set(notices).size).toBe(4);
  expect(notices.filter((l) => l.startsWith('ferry: deploy ferry-cn-a before ferry-cn-b: '))).toHaveLength(1);
  expect(notices.filter((l) => l.includes('must list client ID "ferry-outbound"'))).toHaveLength(1);
});
