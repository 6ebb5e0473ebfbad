/** ferry copy and ferry sync on the command line: bin/ferry.ts in a child process. */
import * as net from 'node:net';
import { ferryProcess } from './helpers';

const env = { PATH: process.env.PATH };

test('ferry --help lists push, copy and sync; each has its own --help', async () => {
  const top = await ferryProcess(['--help'], env);
  expect(top.code).toBe(0);
  for (const command of ['push', 'copy', 'sync']) expect(top.stdout).toMatch(new RegExp(`^  ${command}\\s+\\S`, 'm'));
  const copy = await ferryProcess(['copy', '--help'], env);
  expect(copy.code).toBe(0);
  for (const flag of ['--to', '--expect-digest', '--digest-file', '--no-referrers', '--jobs', '--retries', '--json', '--insecure-registry', '--ca-file'])
    expect(copy.stdout).toContain(flag);
  const sync = await ferryProcess(['sync', '--help'], env);
  expect(sync.code).toBe(0);
  for (const flag of ['--to', '--tags', '--dry-run', '--no-referrers', '--json']) expect(sync.stdout).toContain(flag);
});

test('copy and sync refuse bad arguments with one line and exit 2', async () => {
  const noDest = await ferryProcess(['copy', '127.0.0.1:5000/app:v1'], env);
  expect(noDest.code).toBe(2);
  expect(noDest.stderr.trim()).toBe('ferry copy: no destination: name one or more with --to <ref> (see ferry copy --help)');
  const badDigestFile = await ferryProcess(['copy', '127.0.0.1:5000/app:v1', '--to', '127.0.0.1:5001/app:v1', '--digest-file', '/nonexistent/dir/digest'], env);
  expect(badDigestFile.code).toBe(2);
  expect(badDigestFile.stderr.trim()).toBe('ferry copy: --digest-file /nonexistent/dir/digest: directory /nonexistent/dir does not exist');
  const badSourceRole = await ferryProcess(['copy', '127.0.0.1:5000/app:v1=not-a-role', '--to', '127.0.0.1:5001/app:v1'], env);
  expect(badSourceRole.code).toBe(2);
  expect(badSourceRole.stderr.trim()).toBe(
    'ferry copy: source 127.0.0.1:5000/app:v1=not-a-role: "not-a-role" is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)',
  );
  const badGlob = await ferryProcess(['sync', '127.0.0.1:5000/app', '--to', '127.0.0.1:5001/app', '--tags', 'v[1'], env);
  expect(badGlob.code).toBe(2);
  expect(badGlob.stderr.trim()).toBe('ferry sync: --tags "v[1": "[" without a closing "]"');
});

describe('--timeout / FERRY_TIMEOUT', () => {
  let silent: net.Server;
  let host: string;
  const sockets = new Set<net.Socket>();
  beforeAll(async () => {
    // Accepts connections and never answers: a registry that hangs.
    silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => silent.close(resolve));
  });

  test('copy from a registry that never answers ends at --timeout with exit 1', async () => {
    const started = Date.now();
    // Source and destination both hang: only the deadline can end the run.
    const run = await ferryProcess(['copy', `${host}/app:v1`, '--to', `${host}/copy:v1`, '--insecure-registry', host, '--timeout', '2', '--json'], env);
    expect(run.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.stderr).toContain('gave up after --timeout 2s');
    expect(JSON.parse(run.stdout).destinations[0]).toEqual(expect.objectContaining({ ok: false, digest: null, error: 'gave up after --timeout 2s' }));
  });

  test('sync takes its deadline from FERRY_TIMEOUT', async () => {
    const started = Date.now();
    const run = await ferryProcess(['sync', `${host}/app`, '--to', '127.0.0.1:9/app', '--insecure-registry', host, '--insecure-registry', '127.0.0.1:9'], {
      ...env,
      FERRY_TIMEOUT: '2',
    });
    expect(run.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.stderr.trim()).toBe('ferry sync: gave up after --timeout 2s');
  });
});

describe("the trust options are push's, checked before anything moves", () => {
  const chinaRole = 'arn:aws-cn:iam::222222222222:role/ferry/ferry-pusher-china';
  const chinaDest = `222222222222.dkr.ecr.cn-north-1.amazonaws.com.cn/cn/app:v1=${chinaRole}`;

  test('--trust cluster-oidc (what the pipeline passes) is accepted', async () => {
    const ok = await ferryProcess(
      ['copy', '127.0.0.1:9/app:v1', '--to', '127.0.0.1:9/b:v1', '--trust', 'cluster-oidc', '--digest-file', '/nonexistent/d'],
      env,
    );
    expect(ok.code).toBe(2);
    // Preflight reaches the next check: the trust value itself passed.
    expect(ok.stderr.trim()).toBe('ferry copy: --digest-file /nonexistent/d: directory /nonexistent does not exist');
  });

  test('copy --trust outbound-federation needs the build region to mint in, like push', async () => {
    const run = await ferryProcess(['copy', '127.0.0.1:9/app:v1', '--to', chinaDest, '--trust', 'outbound-federation'], env);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      `ferry copy: --trust outbound-federation for ${chinaRole} needs the build region to mint the token in: set --token-region, FERRY_TOKEN_REGION or AWS_REGION`,
    );
  });

  test("sync with FERRY_TRUST=outbound-federation refuses a token region in the role's own partition", async () => {
    const run = await ferryProcess(['sync', '127.0.0.1:9/app', '--to', chinaDest.replace(':v1', '')], {
      ...env,
      FERRY_TRUST: 'outbound-federation',
      AWS_REGION: 'cn-northwest-1',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('STS rejects outbound-federation tokens inside one partition');
  });

  test('a bad --trust value is refused with the flag named', async () => {
    const run = await ferryProcess(['copy', '127.0.0.1:9/app:v1', '--to', '127.0.0.1:9/b:v1', '--trust', 'irsa'], env);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('ferry copy: --trust "irsa" is not one of cluster-oidc, outbound-federation');
  });
});
