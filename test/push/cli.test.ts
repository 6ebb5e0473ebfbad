/** The command line as users and the Argo template run it: bin/ferry.ts in a child process. */
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
