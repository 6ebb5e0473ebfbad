/** The command line as users and the Argo template run it: bin/ferry.ts in a child process. */
import { version } from '../../package.json';
import { ferryProcess } from './helpers';

const env = { PATH: process.env.PATH };

test('ferry --help and ferry push --help print the usage and exit 0', async () => {
  const top = await ferryProcess(['--help'], env);
  expect(top.code).toBe(0);
  expect(top.stdout).toContain('push    push an image');
  const push = await ferryProcess(['push', '--help'], env);
  expect(push.code).toBe(0);
  for (const flag of [
    '--to',
    '--jobs',
    '--retries',
    '--timeout',
    'FERRY_TIMEOUT',
    '--expect-digest',
    '--digest-file',
    '--json',
    '--insecure-registry',
    '--ca-file',
    'IMAGE_TAR',
    'AWS_ECR_ENDPOINT',
    'Exit codes',
    'Retries',
  ]) {
    expect(push.stdout).toContain(flag);
  }
});

test('a missing image file exits 2 with one line naming it', async () => {
  const run = await ferryProcess(['push', '/nonexistent/image.tar', '--to', '127.0.0.1:5000/app:v1'], env);
  expect(run.code).toBe(2);
  expect(run.stderr.trim()).toBe('ferry push: /nonexistent/image.tar: no such file or directory');
});

test('no arguments and no IMAGE_TAR is a usage error naming the variable', async () => {
  const run = await ferryProcess(['push'], env);
  expect(run.code).toBe(2);
  expect(run.stderr.trim()).toBe('ferry push: no image given and IMAGE_TAR is not set; usage: ferry push <image> --to <ref> (see --help)');
});

test('an unknown command exits 2', async () => {
  expect((await ferryProcess(['pull'], env)).code).toBe(2);
});

test("ferry --version and ferry version print the package version (and Node's), exit 0", async () => {
  for (const args of [['--version'], ['version']]) {
    const run = await ferryProcess(args, env);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`ferry ${version} (node ${process.version})\n`);
  }
});

test('ferry help <command> prints that usage; ferry help <unknown> exits 2 like an unknown command', async () => {
  const known = await ferryProcess(['help', 'sync'], env);
  expect(known.code).toBe(0);
  expect(known.stdout).toContain('Usage: ferry sync');
  const typo = await ferryProcess(['help', 'pussh'], env);
  expect(typo.code).toBe(2);
  expect(typo.stdout).toBe('');
  expect(typo.stderr.split('\n')[0]).toBe('ferry: unknown command "pussh"');
});

test('every --help that points to "Retries" below has that section', async () => {
  for (const command of ['push', 'copy', 'sync']) {
    const help = (await ferryProcess([command, '--help'], env)).stdout;
    const pointer = help.indexOf('see "Retries" below');
    expect(pointer).toBeGreaterThan(-1);
    expect(help.indexOf('\nRetries: ', pointer)).toBeGreaterThan(pointer);
  }
});
