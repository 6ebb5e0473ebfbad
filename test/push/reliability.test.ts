/**
 * Retries against a real plain-HTTP registry behind a fault-injecting proxy: 503 with
 * Retry-After and dropped connections are retried; a registry that keeps failing ends
 * the destination without a tag.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FaultyProxy, startFaultyProxy } from './faulty-proxy';
import { SMALL_LAYERS, kanikoTar, makeFixture, sha256 } from './fixtures';
import { ferryPush, registryGet, skopeo, tmpDir } from './helpers';
import { TestRegistry, startRegistry } from './registry-server';

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
