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
  for (const flag of ['--to', '--expect-digest', '--digest-file', '--no-referrers', '--jobs', '--retries', '--json', '--insecure-registry', '--ca-file']) expect(copy.stdout).toContain(flag);
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
    silent = net.createServer((socket) => { sockets.add(socket); socket.on('error', () => undefined); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => silent.close(resolve));
  });

  test('copy from a registry that never answers ends at --timeout with exit 1', async () => {
    const started = Date.now();
    const run = await ferryProcess(['copy', `${host}/app:v1`, '--to', '127.0.0.1:9/app:v1', '--insecure-registry', host, '--insecure-registry', '127.0.0.1:9', '--timeout', '2', '--json'], env);
    expect(run.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.stderr).toContain('did not finish within --timeout 2s');
    expect(JSON.parse(run.stdout).destinations[0]).toEqual(expect.objectContaining({ ok: false, error: 'did not finish within --timeout 2s' }));
  });

  test('sync takes its deadline from FERRY_TIMEOUT', async () => {
    const started = Date.now();
    const run = await ferryProcess(['sync', `${host}/app`, '--to', '127.0.0.1:9/app', '--insecure-registry', host, '--insecure-registry', '127.0.0.1:9'], { ...env, FERRY_TIMEOUT: '2' });
    expect(run.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.stderr.trim()).toBe('ferry sync: did not finish within --timeout 2s');
  });
});

test('--trust cluster-oidc (what the pipeline passes) is accepted; outbound-federation is refused before anything moves', async () => {
  const ok = await ferryProcess(['copy', '127.0.0.1:9/app:v1', '--to', '127.0.0.1:9/b:v1', '--trust', 'cluster-oidc', '--digest-file', '/nonexistent/d'], env);
  expect(ok.stderr).not.toContain('--trust');
  const refused = await ferryProcess(['sync', '127.0.0.1:9/app', '--to', '127.0.0.1:9/b'], { ...env, FERRY_TRUST: 'outbound-federation' });
  expect(refused.code).toBe(2);
  expect(refused.stderr.trim()).toBe('ferry sync: FERRY_TRUST outbound-federation: this build of ferry reaches roles by cluster-oidc only');
});
