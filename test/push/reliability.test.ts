/**
 * Retries against a real plain-HTTP registry behind a fault-injecting proxy: 503 with
 * Retry-After and dropped connections are retried; a registry that keeps failing ends
 * the destination without a tag.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type FaultyProxy, startFaultyProxy } from './faulty-proxy';
import { kanikoTar, makeFixture, SMALL_LAYERS, sha256 } from './fixtures';
import { ferryPush, registryGet, skopeo, tmpDir } from './helpers';
import { startRegistry, type TestRegistry } from './registry-server';

let registry: TestRegistry;
let proxy: FaultyProxy | undefined;
let work: string;
let image: string;

beforeAll(async () => {
  work = tmpDir('reliability');
  registry = await startRegistry();
  image = kanikoTar(await makeFixture(path.join(work, 'image'), SMALL_LAYERS));
});

afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

afterAll(async () => {
  await registry?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('503 with Retry-After on an upload and on the manifest, and a dropped connection, are retried to success', async () => {
  proxy = await startFaultyProxy(registry.host, [
    { method: 'PATCH', pathIncludes: '/blobs/uploads/', times: 2, kind: 'status503' },
    { method: 'PUT', pathIncludes: '/manifests/', times: 1, kind: 'status503' },
    { method: 'HEAD', pathIncludes: '/blobs/', times: 1, kind: 'reset' },
  ]);
  const run = await ferryPush([image, '--to', `${proxy.host}/retry/app:v1`, '--insecure-registry', proxy.host, '--json'], {});
  expect(run.stderr).not.toContain('FAILED');
  expect(run.code).toBe(0);
  expect(proxy.faults.map((f) => f.times)).toEqual([0, 0, 0]);
  expect(run.stderr).toMatch(/retrying in \d+\.\ds .*answered 503/);
  const inspect = await skopeo(registry, ['inspect', '--raw', `docker://${registry.host}/retry/app:v1`]);
  expect(inspect.code).toBe(0);
  expect(JSON.parse(run.stdout).digest).toBe(sha256(inspect.stdout));
});

test('a registry that keeps answering 503 exhausts the retries: exit 1, the error names the status, no tag', async () => {
  proxy = await startFaultyProxy(registry.host, [{ method: 'PUT', pathIncludes: '/manifests/', times: 100, kind: 'status503' }]);
  const run = await ferryPush([image, '--to', `${proxy.host}/retry/never:v1`, '--insecure-registry', proxy.host, '--retries', '2', '--json'], {});
  expect(run.code).toBe(1);
  expect(JSON.parse(run.stdout).destinations[0].error).toMatch(/manifests\/v1 answered 503 UNAVAILABLE: injected by the test proxy/);
  expect(proxy.faults[0].times).toBe(97);
  expect((await registryGet(registry, '/v2/retry/never/manifests/v1')).status).toBe(404);
});

test('--jobs bounds the uploads in flight, measured at the server', async () => {
  const many = kanikoTar(await makeFixture(path.join(work, 'many'), [...SMALL_LAYERS, { files: { a: 'a' } }, { files: { b: 'b' } }]));
  for (const jobs of [1, 3]) {
    proxy = await startFaultyProxy(registry.host, [{ method: 'PATCH', pathIncludes: '/blobs/uploads/', times: 100, kind: 'delay', ms: 250 }]);
    const run = await ferryPush([many, '--to', `${proxy.host}/jobs/j${jobs}:v1`, '--insecure-registry', proxy.host, '--jobs', String(jobs)], {});
    expect(run.code).toBe(0);
    expect(proxy.counts.PATCH).toBe(6);
    expect(proxy.maxInFlight.PATCH).toBe(jobs);
    await proxy.stop();
    proxy = undefined;
  }
});

test('10 of 10 pushes land at the default --retries with the right digest and every blob through 20% faults: resets (also mid-body), 500, 503, 429, stalls', async () => {
  proxy = await startFaultyProxy(registry.host, [], {
    rate: 0.2,
    sequence: 20261127,
    kinds: [
      { method: '*', pathIncludes: '', times: 0, kind: 'reset' },
      { method: '*', pathIncludes: '', times: 0, kind: 'reset-mid-body' },
      { method: '*', pathIncludes: '', times: 0, kind: 'status', status: 500 },
      { method: '*', pathIncludes: '', times: 0, kind: 'status503' },
      { method: '*', pathIncludes: '', times: 0, kind: 'status', status: 429, headers: { 'retry-after': '1' } },
      { method: '*', pathIncludes: '', times: 0, kind: 'stall' },
    ],
  });
  const host = proxy.host;
  const runs = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      ferryPush([image, '--to', `${host}/faults/app${i}:v1`, '--insecure-registry', host, '--timeout', '240', '--json'], {}),
    ),
  );
  const faulted = proxy.seen.filter((r) => r.fault);
  expect(faulted.length).toBeGreaterThan(10);
  expect(new Set(faulted.map((r) => r.fault))).toEqual(new Set(['reset', 'reset-mid-body', 'status', 'status503', 'stall']));
  const expected = JSON.parse(runs[0].stdout).digest;
  for (const [i, run] of runs.entries()) {
    expect({ i, code: run.code, error: JSON.parse(run.stdout).destinations[0].error }).toEqual({ i, code: 0, error: undefined });
    if (process.env.FERRY_TEST_DEBUG) process.stderr.write(run.stderr);
    const out = path.join(work, `faults-${i}`);
    const copy = await skopeo(registry, ['copy', `docker://${registry.host}/faults/app${i}:v1`, `dir:${out}`]);
    expect(copy.code).toBe(0);
    const manifest = fs.readFileSync(path.join(out, 'manifest.json'));
    expect(sha256(manifest)).toBe(expected);
    const { config, layers } = JSON.parse(manifest.toString());
    for (const blob of [config, ...layers]) expect(sha256(fs.readFileSync(path.join(out, blob.digest.slice(7))))).toBe(blob.digest);
  }
}, 420_000);
