/**
 * Every wait has a deadline and every retry comes from one budget: a real plain-HTTP
 * docker-registry behind the fault proxy that stalls, trickles and keeps failing.
 * Small --timeout values keep the run short; request deadlines scale with it.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Transport } from '../../lib/registry/transport';
import { type FaultyProxy, startFaultyProxy } from './faulty-proxy';
import { kanikoTar, makeFixture, SMALL_LAYERS } from './fixtures';
import { ferryProcess, ferryPush, registryGet, tmpDir } from './helpers';
import { startRegistry, type TestRegistry } from './registry-server';

let registry: TestRegistry;
let work: string;
let image: string;
const proxies: FaultyProxy[] = [];

beforeAll(async () => {
  work = tmpDir('deadlines');
  registry = await startRegistry();
  image = kanikoTar(await makeFixture(path.join(work, 'image'), SMALL_LAYERS));
});

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await registry?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function proxy(faults: Parameters<typeof startFaultyProxy>[1]): Promise<FaultyProxy> {
  const p = await startFaultyProxy(registry.host, faults);
  proxies.push(p);
  return p;
}

async function timedPush(p: FaultyProxy, repo: string, extra: string[]) {
  const started = Date.now();
  const run = await ferryPush([image, '--to', `${p.host}/${repo}:v1`, '--insecure-registry', p.host, '--json', ...extra], {});
  return { ...run, seconds: (Date.now() - started) / 1000, result: run.stdout ? JSON.parse(run.stdout).destinations[0] : undefined };
}

describe('deadlines', () => {
  test('a registry that accepts uploads and never answers fails within --timeout, even with many retries left', async () => {
    const p = await proxy([{ method: 'PATCH', pathIncludes: '/blobs/uploads/', times: 1000, kind: 'stall' }]);
    const run = await timedPush(p, 'stall/app', ['--timeout', '4', '--retries', '20']);
    expect(run.code).toBe(1);
    expect(run.seconds).toBeLessThan(4 + 1.5);
    expect(run.result).toMatchObject({ ok: false, digest: null });
    expect(run.result.error).toMatch(/no answer within|--timeout 4s/);
    expect((await registryGet(registry, '/v2/stall/app/manifests/v1')).status).toBe(404);
  });

  test('the real command line against a stalled registry exits 1 within FERRY_TIMEOUT plus start-up: nothing keeps the process alive', async () => {
    const p = await proxy([
      { method: 'PATCH', pathIncludes: '/blobs/uploads/', times: 1000, kind: 'stall' },
      { method: 'PUT', pathIncludes: '/manifests/', times: 1000, kind: 'status', status: 503 },
    ]);
    const started = Date.now();
    const run = await ferryProcess(['push', image, '--to', `${p.host}/process/app:v1`, '--insecure-registry', p.host, '--retries', '20'], {
      PATH: process.env.PATH,
      HOME: work,
      FERRY_TIMEOUT: '3',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/FAILED: .*(no answer within|--timeout 3s)/);
    expect((Date.now() - started) / 1000).toBeLessThan(3 + 5);
  });

  test('a registry that never answers at all (even /v2/) fails within --timeout', async () => {
    const p = await proxy([{ method: 'GET', pathIncludes: '/v2/', times: 1000, kind: 'stall' }]);
    const run = await timedPush(p, 'silent/app', ['--timeout', '3', '--retries', '20']);
    expect(run.code).toBe(1);
    expect(run.seconds).toBeLessThan(3 + 1.5);
  });

  test('a request without an answer fails on the first-byte deadline and is retried, long before --timeout', async () => {
    const p = await proxy([{ method: 'HEAD', pathIncludes: '/blobs/', times: 1, kind: 'stall' }]);
    const run = await timedPush(p, 'ttfb/app', ['--timeout', '30', '--retries', '1']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/retrying in .*HEAD .*: ETIMEDOUT \(no answer within 2s\)/);
    expect(run.seconds).toBeLessThan(6);
  });

  test('a trickle is a stall: an answer at one byte per 300 ms fails on the throughput rule, long before --timeout', async () => {
    const p = await proxy([{ method: 'GET', pathIncludes: '/v2/', times: 1000, kind: 'trickle', ms: 300 }]);
    const run = await timedPush(p, 'trickle/app', ['--timeout', '20', '--retries', '0']);
    expect(run.code).toBe(1);
    expect(run.result.error).toMatch(/stalled: \d+ bytes in 2s/);
    expect(run.seconds).toBeLessThan(5);
  });

  test('connecting is bounded: a TLS server that accepts and never speaks fails on the connect deadline', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => {
      sockets.push(s);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const transport = new Transport({
      retries: 0,
      insecureHosts: new Set(),
      timeouts: { connectMs: 300, firstByteMs: 5000, stallWindowMs: 5000, minBytesPerSecond: 1 },
    });
    try {
      const started = Date.now();
      const sent = transport.send({ method: 'GET', url: new URL(`https://127.0.0.1:${(server.address() as net.AddressInfo).port}/v2/`) });
      const hung = new Promise((_, reject) => setTimeout(() => reject(new Error('no deadline fired within 3 s')), 3000).unref());
      await expect(Promise.race([sent, hung])).rejects.toThrow(/no connection within 0\.3s/);
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      transport.close();
      sockets.forEach((s) => s.destroy());
      server.close();
    }
  });
});

describe('one retry budget per operation', () => {
  test('a persistent 503 on the upload POST: exactly --retries + 1 POSTs for the blob, no retry inside a retry', async () => {
    const p = await proxy([{ method: 'POST', pathIncludes: '/blobs/uploads/', times: 1000, kind: 'status', status: 503, headers: { 'retry-after': '0' } }]);
    const run = await timedPush(p, 'budget/app', ['--retries', '2', '--jobs', '1']);
    expect(run.code).toBe(1);
    expect(p.counts.POST).toBe(3);
    expect(run.result.error).toMatch(/POST .* answered 503/);
  });

  test('a failing PATCH spends from the same budget as its POST and PUT', async () => {
    const p = await proxy([{ method: 'PATCH', pathIncludes: '/blobs/uploads/', times: 1000, kind: 'reset-mid-body' }]);
    const run = await timedPush(p, 'budget/patch', ['--retries', '1', '--jobs', '1']);
    expect(run.code).toBe(1);
    expect(p.counts.PATCH).toBe(2);
    expect(p.counts.POST).toBe(2);
  });

  test('Retry-After: 0 does not shorten the backoff (at least 0.5 s before the one retry)', async () => {
    const p = await proxy([{ method: 'PUT', pathIncludes: '/manifests/', times: 1000, kind: 'status', status: 429, headers: { 'retry-after': '0' } }]);
    const started = Date.now();
    const run = await timedPush(p, 'budget/429', ['--retries', '1']);
    expect(run.code).toBe(1);
    expect(p.counts.PUT - 4).toBe(2); // 4 blob PUTs, then the manifest PUT and its one retry
    expect(run.stderr).toMatch(/retrying in (0\.[5-9]|1\.0)s \(attempt 2 of 2\)/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  test('Retry-After lengthens the wait: 2 s asked, 2 s waited', async () => {
    const p = await proxy([{ method: 'PUT', pathIncludes: '/manifests/', times: 1, kind: 'status', status: 429, headers: { 'retry-after': '2' } }]);
    const run = await timedPush(p, 'budget/after', ['--retries', '1']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/retrying in 2\.0s/);
  });

  test('the deadline ends retries: 503 forever with --retries 20 stops at --timeout', async () => {
    const p = await proxy([{ method: 'PUT', pathIncludes: '/manifests/', times: 1000, kind: 'status', status: 503 }]);
    const run = await timedPush(p, 'budget/deadline', ['--retries', '20', '--timeout', '3']);
    expect(run.code).toBe(1);
    // The wait that would pass the deadline is not started, so the error keeps the real cause.
    expect(run.result.error).toMatch(/answered 503 .*\(no time left for a retry before --timeout 3s\)/);
    expect(run.seconds).toBeLessThan(3 + 1);
    expect(p.counts.PUT - 4).toBeLessThan(6);
  });
});
