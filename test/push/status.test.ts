/**
 * ferry status between real registries (docker-registry on 127.0.0.1): tags that match, are missing, or differ, and a registry that cannot be read.
 * Logging proxies show that status only reads.
 */
import * as fs from 'node:fs';
import { main as statusMain } from '../../lib/cli/status';
import {
  blobBytes,
  MT,
  type RegistryProxy,
  type StoredImage,
  startRegistryProxy,
  storeBlob,
  storeCosignSignature,
  storeImage,
  storeManifest,
} from './copy-support';
import { type RunResult, runInProcess, tmpDir } from './helpers';
import { freePort, startRegistry, type TestRegistry } from './registry-server';

let build: TestRegistry;
let govcloud: TestRegistry;
let china: TestRegistry;
let buildProxy: RegistryProxy;
let chinaProxy: RegistryProxy;
let work: string;
let env: Record<string, string>;
const digests: Record<string, string> = {};
let chinaV2: string;

/** The same image, byte for byte, into another (plain-HTTP) registry: what a delivery leaves there. */
async function deliver(from: TestRegistry, to: TestRegistry, repo: string, tag: string, image: StoredImage): Promise<void> {
  for (const digest of image.blobs) await storeBlob(to.host, repo, blobBytes(from, digest));
  await storeManifest(to.host, repo, tag, image.manifest, MT.manifest);
}

beforeAll(async () => {
  work = tmpDir('status');
  [build, govcloud, china] = await Promise.all([startRegistry(), startRegistry(), startRegistry()]);
  [buildProxy, chinaProxy] = await Promise.all([startRegistryProxy(build.host), startRegistryProxy(china.host)]);
  env = { HOME: work };
  const images: Record<string, StoredImage> = {};
  for (const tag of ['v1', 'v2', 'v3']) {
    images[tag] = await storeImage(build.host, 'team/app', tag, tag);
    digests[tag] = images[tag].digest;
  }
  await storeCosignSignature(build.host, 'team/app', digests.v1);
  // govcloud holds every tag at the build's digest.
  for (const tag of ['v1', 'v2', 'v3']) await deliver(build, govcloud, 'team/app', tag, images[tag]);
  // china: v1 the same, v2 at another digest, v3 missing, and a tag the build registry lacks.
  await deliver(build, china, 'team/app', 'v1', images.v1);
  chinaV2 = (await storeImage(china.host, 'team/app', 'v2', 'rebuilt v2')).digest;
  digests.hotfix = (await storeImage(china.host, 'team/app', 'hotfix', 'hotfix')).digest;
});

afterAll(async () => {
  await Promise.all([buildProxy?.stop(), chinaProxy?.stop()]);
  await Promise.all([build?.stop(), govcloud?.stop(), china?.stop()]);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

function ferryStatus(args: readonly string[]): Promise<RunResult> {
  const insecure = [buildProxy.host, chinaProxy.host, govcloud.host].flatMap((h) => ['--insecure-registry', h]);
  return runInProcess(statusMain, [...args, ...insecure, '--retries', '1'], env);
}

const hex12 = (digest: string) => digest.slice('sha256:'.length, 'sha256:'.length + 12);

test('one row per tag, one column per registry: same digests, a differing tag, a missing tag and an extra one; only reads', async () => {
  const run = await ferryStatus([`${buildProxy.host}/team/app`, '--to', `${govcloud.host}/team/app`, '--to', `${chinaProxy.host}/team/app`]);
  const lines = run.stdout.trimEnd().split('\n');
  expect(lines.slice(0, 3)).toEqual([`[0] ${buildProxy.host}/team/app (reference)`, `[1] ${govcloud.host}/team/app`, `[2] ${chinaProxy.host}/team/app`]);
  const rows = Object.fromEntries(lines.slice(5).map((l) => [l.split(/\s+/)[0], l.split(/\s+/).slice(1)]));
  expect(rows).toEqual({
    hotfix: ['-', '-', `+${hex12(digests.hotfix)}`],
    v1: [hex12(digests.v1), hex12(digests.v1), hex12(digests.v1)],
    v2: [hex12(digests.v2), hex12(digests.v2), `!${hex12(chinaV2)}`],
    v3: [hex12(digests.v3), hex12(digests.v3), '-'],
  });
  // The cosign signature tag is a referrer: left out.
  expect(run.stdout).not.toContain('.sig');
  // A tag at another digest is what sync will not overwrite: exit 2.
  expect(run.code).toBe(2);
  expect([...buildProxy.writes(), ...chinaProxy.writes()]).toEqual([]);
});

test('--json names every cell with its full digest and state; --tags narrows the rows', async () => {
  const run = await ferryStatus([`${buildProxy.host}/team/app`, '--to', `${chinaProxy.host}/team/app`, '--tags', 'v[23]', '--json']);
  const report = JSON.parse(run.stdout);
  expect(report.complete).toBe(false);
  expect(report.columns).toEqual([{ repository: `${buildProxy.host}/team/app` }, { repository: `${chinaProxy.host}/team/app` }]);
  expect(report.rows).toEqual([
    {
      tag: 'v2',
      cells: [
        { state: 'reference', digest: digests.v2 },
        { state: 'different', digest: chinaV2 },
      ],
    },
    {
      tag: 'v3',
      cells: [
        { state: 'reference', digest: digests.v3 },
        { state: 'missing', digest: null },
      ],
    },
  ]);
});

test('a missing tag alone exits 1 (ferry sync brings it); a complete registry exits 0', async () => {
  const missing = await ferryStatus([`${buildProxy.host}/team/app`, '--to', `${chinaProxy.host}/team/app`, '--tags', 'v3']);
  expect(missing.code).toBe(1);
  const complete = await ferryStatus([`${buildProxy.host}/team/app`, '--to', `${govcloud.host}/team/app`]);
  expect(complete.stdout).not.toMatch(/\s[-!+?]/);
  expect(complete.code).toBe(0);
});

test('a registry that cannot be read is a column of "?" with the reason, exit 1; the others are still shown', async () => {
  const nobody = `127.0.0.1:${await freePort()}`;
  const run = await ferryStatus([`${buildProxy.host}/team/app`, '--to', `${nobody}/team/app`, '--insecure-registry', nobody, '--tags', 'v1']);
  const lines = run.stdout.trimEnd().split('\n');
  expect(lines).toContain(`v1   ${hex12(digests.v1)}  ?`);
  expect(lines.at(-1)).toMatch(new RegExp(`^\\[1\\] could not be read: .*${nobody.replace('.', '\\.')}`));
  expect(run.code).toBe(1);
});

test('bad input exits 2 with one line: a tag in the repository, no --to', async () => {
  const tagged = await ferryStatus([`${build.host}/team/app:v1`, '--to', `${china.host}/team/app`]);
  expect(tagged.code).toBe(2);
  expect(tagged.stderr.trim().split('\n')).toHaveLength(1);
  expect(tagged.stderr).toContain('without a tag or digest');
  const alone = await ferryStatus([`${build.host}/team/app`]);
  expect(alone.code).toBe(2);
  expect(alone.stderr).toContain('--to');
});
