/**
 * How a ferry process ends (lib/cli/exit.ts): by itself once its command returns, because
 * Node's process.exit() can hang for good on Node 24 (a V8 background compile job parked for a
 * garbage collection; nodejs/node#64274); by force only when something keeps its event loop
 * alive, as work abandoned at the --timeout deadline can.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { FORCED_EXIT_AFTER_MS } from '../../lib/cli/exit';
import { childOutput } from '../support/child-output';
import { EXIT_PROBE_NODE_OPTIONS, FORCED_EXIT as FORCED } from '../support/exit-probe';
import { storeImage } from './copy-support';
import { ferryProcess, REPO_ROOT } from './helpers';
import { startRegistry, type TestRegistry } from './registry-server';

function probed(args: string[], extra: Record<string, string> = {}) {
  return ferryProcess(args, { PATH: process.env.PATH, NODE_OPTIONS: EXIT_PROBE_NODE_OPTIONS, ...extra });
}

describe('against two registries', () => {
  let src: TestRegistry;
  let dest: TestRegistry;
  beforeAll(async () => {
    [src, dest] = await Promise.all([startRegistry(), startRegistry()]);
    await storeImage(src.host, 'app', 'v1', 'exit test', 64 * 1024);
  });
  afterAll(async () => {
    await Promise.all([src.stop(), dest.stop()]);
  });
  const insecure = () => ['--insecure-registry', src.host, '--insecure-registry', dest.host];

  test('a copy that delivered, and one whose source tag is missing, end by themselves with their exit codes', async () => {
    const delivered = await probed(['copy', `${src.host}/app:v1`, '--to', `${dest.host}/app:v1`, ...insecure()]);
    expect(delivered.stderr).toContain(`${dest.host}/app:v1: done`);
    expect(delivered.code).toBe(0);
    expect(delivered.stderr).not.toMatch(FORCED);

    const missing = await probed(['copy', `${src.host}/app:gone`, '--to', `${dest.host}/app:gone`, ...insecure()]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).not.toMatch(FORCED);
  });

  test('sync and status end by themselves too', async () => {
    const sync = await probed(['sync', `${src.host}/app`, '--to', `${dest.host}/synced`, ...insecure()]);
    expect(sync.code).toBe(0);
    expect(sync.stderr).not.toMatch(FORCED);
    const status = await probed(['status', `${src.host}/app`, '--to', `${dest.host}/synced`, ...insecure()]);
    expect(status.code).toBe(0);
    expect(status.stderr).not.toMatch(FORCED);
  });
});

test('bad usage ends by itself with exit 2', async () => {
  const run = await probed(['copy', '127.0.0.1:9/app:v1']);
  expect(run.code).toBe(2);
  expect(run.stderr).not.toMatch(FORCED);
});

test('a run whose event loop does not empty is ended by force after the grace, with its own exit code', async () => {
  const started = Date.now();
  const run = await probed(['copy', '127.0.0.1:9/app:v1'], { FERRY_TEST_HOLD_LOOP: '1' });
  expect(run.code).toBe(2);
  expect(FORCED.exec(run.stderr)?.[1]).toBe('2');
  expect(Date.now() - started).toBeGreaterThanOrEqual(FORCED_EXIT_AFTER_MS);
});

test('an error of abandoned work surfacing while the process winds down changes neither the exit code nor the output', async () => {
  const script = `
    require(${JSON.stringify(path.join(REPO_ROOT, 'lib', 'cli', 'exit.ts'))}).endProcess(3);
    setTimeout(() => { throw new Error('late throw'); }, 10);
    setTimeout(() => Promise.reject(new Error('late rejection')), 20);
  `;
  const run = await childOutput(spawn(process.execPath, ['--import', 'tsx', '--eval', script], { cwd: REPO_ROOT }));
  expect(run.code).toBe(3);
  expect(run.stderr).toBe('');
});
