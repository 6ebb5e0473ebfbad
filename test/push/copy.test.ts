/**
 * ferry copy between real registries (Debian's docker-registry on 127.0.0.1: one with TLS
 * and htpasswd, plain HTTP ones), checked with skopeo and raw reads. The source sits
 * behind a logging proxy, so the tests see how often each blob was read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { main as copyMain } from '../../lib/cli/copy';
import { DEFAULTS } from '../../lib/cli/options';
import { version } from '../../package.json';
import {
  blobBytes,
  corruptBlob,
  MT,
  type RegistryProxy,
  referrersListed,
  registryRequest,
  type StoredIndex,
  sha256,
  startRegistryProxy,
  storeArtifact,
  storeBlob,
  storeCosignSignature,
  storeImage,
  storeIndex,
  storeReferrersTag,
} from './copy-support';
import { startFaultyProxy } from './faulty-proxy';
import { dockerConfig, PASSWORD, skopeo, tmpDir, USER } from './helpers';
import { startRegistry, type TestRegistry } from './registry-server';

let src: TestRegistry;
let secure: TestRegistry;
let plain: TestRegistry;
let proxy: RegistryProxy;
let work: string;
let env: Record<string, string>;

beforeAll(async () => {
  work = tmpDir('copy');
  [src, secure, plain] = await Promise.all([startRegistry(), startRegistry({ users: { [USER]: PASSWORD } }), startRegistry()]);
  proxy = await startRegistryProxy(src.host);
  env = { DOCKER_CONFIG: dockerConfig(path.join(work, 'docker'), secure.host, USER, PASSWORD), HOME: work };
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([src?.stop(), secure?.stop(), plain?.stop()]);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

export async function ferryCopy(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  const code = await copyMain(
    [...args, '--insecure-registry', proxy.host, '--insecure-registry', plain.host, '--insecure-registry', src.host, '--ca-file', secure.caFile!],
    { env: { ...env, ...extraEnv }, stdout: out, stderr: err },
  );
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}

async function raw(registry: TestRegistry, ref: string): Promise<Buffer> {
  const out = await skopeo(registry, ['inspect', '--raw', `docker://${registry.host}/${ref}`]);
  if (out.code !== 0) throw new Error(`skopeo inspect ${ref}: ${out.stderr}`);
  return out.stdout;
}

async function status(registry: TestRegistry, urlPath: string): Promise<number> {
  return (await registryRequest(registry, urlPath, 'HEAD', registry.tls ? `${USER}:${PASSWORD}` : undefined)).status;
}

describe('an index with two platforms, a cosign signature and a tag-schema referrer', () => {
  let image: StoredIndex;
  let signature: string;
  let artifact: { digest: string; descriptor: Record<string, unknown> };
  let referrersIndex: string;

  beforeAll(async () => {
    image = await storeIndex(src.host, 'team/app', 'v1');
    signature = await storeCosignSignature(src.host, 'team/app', image.digest);
    artifact = await storeArtifact(src.host, 'team/app', { mediaType: MT.index, digest: image.digest, size: image.index.length });
    referrersIndex = await storeReferrersTag(src.host, 'team/app', image.digest, [artifact.descriptor]);
  });

  test('lands byte for byte in a TLS+htpasswd registry and a plain one, each blob read from the source once', async () => {
    proxy.log.length = 0;
    const run = await ferryCopy([`${proxy.host}/team/app:v1`, '--to', `${secure.host}/team/app:v1`, '--to', `${plain.host}/mirror/app:v1`, '--json']);
    expect(run.stderr).not.toContain('FAILED');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.digest).toBe(image.digest);
    expect(summary.destinations).toEqual([
      expect.objectContaining({ ref: `${secure.host}/team/app:v1`, ok: true, digest: image.digest, referrers: 2 }),
      expect.objectContaining({ ref: `${plain.host}/mirror/app:v1`, ok: true, digest: image.digest, referrers: 2 }),
    ]);
    for (const [registry, repo] of [
      [secure, 'team/app'],
      [plain, 'mirror/app'],
    ] as const) {
      expect((await raw(registry, `${repo}:v1`)).equals(image.index)).toBe(true);
      for (const p of image.platforms) expect((await raw(registry, `${repo}@${p.digest}`)).equals(p.manifest)).toBe(true);
      expect(sha256(await raw(registry, `${repo}:${image.digest.replace(':', '-')}.sig`))).toBe(signature);
      expect(sha256(await raw(registry, `${repo}:${image.digest.replace(':', '-')}`))).toBe(referrersIndex);
      expect(await status(registry, `/v2/${repo}/manifests/${artifact.digest}`)).toBe(200);
    }
    const blobs = image.platforms.flatMap((p) => p.blobs);
    for (const digest of blobs) expect(proxy.blobGets(digest)).toHaveLength(1);
    // Every request names ferry and its version (registries log the User-Agent).
    expect(proxy.log.length).toBeGreaterThan(0);
    expect(new Set(proxy.log.map((r) => r.userAgent))).toEqual(new Set([`ferry/${version}`]));
    // skopeo pulls every platform and checks every blob against its digest.
    const pulled = await skopeo(secure, ['copy', '--all', '--quiet', `docker://${secure.host}/team/app:v1`, `oci:${path.join(work, 'pulled')}:v1`]);
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);
  });

  test('source credentials come from config.json: copy out of the TLS+htpasswd registry', async () => {
    const run = await ferryCopy([`${secure.host}/team/app:v1`, '--to', `${plain.host}/from-secure/app:v1`, '--json']);
    expect(run.code).toBe(0);
    expect((await raw(plain, 'from-secure/app:v1')).equals(image.index)).toBe(true);
    const anonymous = await ferryCopy([`${secure.host}/team/app:v1`, '--to', `${plain.host}/from-secure/app:v2`], {
      DOCKER_CONFIG: path.join(work, 'no-such-dir'),
    });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain(`authentication refused by ${secure.host}`);
    expect(await status(plain, '/v2/from-secure/app/manifests/v2')).toBe(404);
  });

  test('--no-referrers copies the image only', async () => {
    const run = await ferryCopy([`${proxy.host}/team/app:v1`, '--to', `${plain.host}/noref/app:v1`, '--no-referrers']);
    expect(run.code).toBe(0);
    expect(await status(plain, '/v2/noref/app/manifests/v1')).toBe(200);
    expect(await status(plain, `/v2/noref/app/manifests/${image.digest.replace(':', '-')}.sig`)).toBe(404);
    expect(await status(plain, `/v2/noref/app/manifests/${artifact.digest}`)).toBe(404);
  });

  test('--expect-digest that does not match exits 2 and writes nothing', async () => {
    proxy.log.length = 0;
    const other = `sha256:${'0'.repeat(64)}`;
    const run = await ferryCopy([`${proxy.host}/team/app:v1`, '--to', `${plain.host}/expect/app:v1`, '--expect-digest', other]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`but --expect-digest says ${other}`);
    expect(await status(plain, '/v2/expect/app/manifests/v1')).toBe(404);
    expect(proxy.blobGets()).toHaveLength(0);
  });
});

test('a corrupt source blob tags nothing anywhere, not even where that blob is already present, and exits 2', async () => {
  const image = await storeImage(src.host, 'corrupt/app', 'v1', 'corrupt', 300_000);
  const layer = image.blobs[1];
  // The plain destination already holds the good layer (and so never needs the corrupt one).
  await storeBlob(plain.host, 'corrupt/app', blobBytes(src, layer));
  corruptBlob(src, layer);
  const run = await ferryCopy([`${proxy.host}/corrupt/app:v1`, '--to', `${secure.host}/corrupt/app:v1`, '--to', `${plain.host}/corrupt/app:v1`, '--json']);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(`blob ${layer} is corrupt`);
  const summary = JSON.parse(run.stdout);
  for (const d of summary.destinations) {
    expect(d.ok).toBe(false);
    expect(d.digest).toBeNull();
  }
  for (const registry of [secure, plain]) {
    expect(await status(registry, '/v2/corrupt/app/manifests/v1')).toBe(404);
    expect(await status(registry, `/v2/corrupt/app/manifests/${image.digest}`)).toBe(404);
  }
  expect(await status(secure, `/v2/corrupt/app/blobs/${layer}`)).toBe(404);
});

test('to a single destination too, a corrupt source blob is never committed and nothing is tagged (exit 2)', async () => {
  const image = await storeImage(src.host, 'corrupt-one/app', 'v1', 'corrupt-one', 1_000_000);
  const layer = image.blobs[1];
  corruptBlob(src, layer);
  const run = await ferryCopy([`${proxy.host}/corrupt-one/app:v1`, '--to', `${plain.host}/corrupt-one/app:v1`, '--json']);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(`blob ${layer} is corrupt`);
  expect(JSON.parse(run.stdout).destinations).toEqual([expect.objectContaining({ ok: false, digest: null })]);
  expect(await status(plain, `/v2/corrupt-one/app/blobs/${layer}`)).toBe(404);
  expect(await status(plain, '/v2/corrupt-one/app/manifests/v1')).toBe(404);
  expect(await status(plain, `/v2/corrupt-one/app/manifests/${image.digest}`)).toBe(404);
});

test('blobs are read largest first, so the small config does not hold a --jobs slot while a big layer waits', async () => {
  const image = await storeImage(src.host, 'order/app', 'v1', 'order', 200_000);
  const [config, layer] = image.blobs;
  proxy.log.length = 0;
  const run = await ferryCopy([`${proxy.host}/order/app:v1`, '--to', `${plain.host}/order/app:v1`, '--jobs', '1']);
  expect(run.code).toBe(0);
  expect(proxy.blobGets().map((r) => r.path.split('/').pop())).toEqual([layer, config]);
});

test('referrers from the OCI 1.1 referrers API land, and are listed under the tag schema where the destination lacks the API', async () => {
  const image = await storeImage(src.host, 'api/app', 'v1', 'api');
  const artifact = await storeArtifact(src.host, 'api/app', { mediaType: MT.manifest, digest: image.digest, size: image.manifest.length });
  const withApi = await startRegistryProxy(src.host, {
    referrers: (repo, digest) => (repo === 'api/app' && digest === image.digest ? [artifact.descriptor] : []),
  });
  try {
    const run = await ferryCopy([`${withApi.host}/api/app:v1`, '--to', `${plain.host}/api/app:v1`, '--insecure-registry', withApi.host]);
    expect(run.code).toBe(0);
    expect(withApi.log.some((r) => r.path === `/v2/api/app/referrers/${image.digest}`)).toBe(true);
    expect(await status(plain, `/v2/api/app/manifests/${artifact.digest}`)).toBe(200);
    const listed = JSON.parse((await raw(plain, `api/app:${image.digest.replace(':', '-')}`)).toString());
    expect(listed.manifests).toEqual([expect.objectContaining({ digest: artifact.digest, artifactType: MT.sbom })]);
  } finally {
    await withApi.stop();
  }
});

test("the destination's own referrers index is merged into, never replaced: its signature stays listed; a second copy writes nothing", async () => {
  const image = await storeImage(src.host, 'merge/app', 'v1', 'merge');
  const subject = { mediaType: MT.manifest, digest: image.digest, size: image.manifest.length };
  const fromSource = await storeArtifact(src.host, 'merge/app', subject, 'made at the source');
  await storeReferrersTag(src.host, 'merge/app', image.digest, [fromSource.descriptor]);
  // The destination holds the image and a signature attached there alone (a GovCloud signer's).
  expect((await ferryCopy([`${src.host}/merge/app:v1`, '--to', `${plain.host}/merge/app:v1`, '--no-referrers'])).code).toBe(0);
  const own = await storeArtifact(plain.host, 'merge/app', subject, 'signed at the destination');
  expect(own.digest).not.toBe(fromSource.digest);
  await storeReferrersTag(plain.host, 'merge/app', image.digest, [own.descriptor]);
  const dst = await startRegistryProxy(plain.host);
  try {
    const run = await ferryCopy([`${src.host}/merge/app:v1`, '--to', `${dst.host}/merge/app:v1`, '--insecure-registry', dst.host]);
    expect(run.stderr).not.toContain('FAILED');
    expect(run.code).toBe(0);
    // The destination's entry first and kept, the source's appended.
    expect((await referrersListed(plain.host, 'merge/app', image.digest))?.map((d) => d.digest)).toEqual([own.digest, fromSource.digest]);
    expect(await status(plain, `/v2/merge/app/manifests/${own.digest}`)).toBe(200);
    expect(await status(plain, `/v2/merge/app/manifests/${fromSource.digest}`)).toBe(200);
    dst.log.length = 0;
    const again = await ferryCopy([`${src.host}/merge/app:v1`, '--to', `${dst.host}/merge/app:v1`, '--insecure-registry', dst.host]);
    expect(again.code).toBe(0);
    expect(dst.writes()).toEqual([]);
    expect((await referrersListed(plain.host, 'merge/app', image.digest))?.map((d) => d.digest)).toEqual([own.digest, fromSource.digest]);
  } finally {
    await dst.stop();
  }
});

test('a referrers tag that holds something other than an index is not overwritten: that destination fails with exit 2', async () => {
  const image = await storeImage(src.host, 'notindex/app', 'v1', 'notindex');
  const artifact = await storeArtifact(src.host, 'notindex/app', { mediaType: MT.manifest, digest: image.digest, size: image.manifest.length });
  await storeReferrersTag(src.host, 'notindex/app', image.digest, [artifact.descriptor]);
  const squatter = await storeImage(plain.host, 'notindex/app', image.digest.replace(':', '-'), 'squatter');
  const run = await ferryCopy([`${src.host}/notindex/app:v1`, '--to', `${plain.host}/notindex/app:v1`]);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(`tag ${image.digest.replace(':', '-')} holds a ${MT.manifest}, not the OCI image index`);
  expect(sha256(await raw(plain, `notindex/app:${image.digest.replace(':', '-')}`))).toBe(squatter.digest);
  expect(await status(plain, '/v2/notindex/app/manifests/v1')).toBe(404);
});

test('a destination that cannot be reached fails alone (exit 1); the others get the image', async () => {
  const image = await storeImage(src.host, 'partial/app', 'v1', 'partial');
  const run = await ferryCopy([
    `${proxy.host}/partial/app:v1`,
    '--to',
    '127.0.0.1:1/partial/app:v1',
    '--to',
    `${plain.host}/partial/app:v1`,
    '--retries',
    '0',
    '--insecure-registry',
    '127.0.0.1:1',
    '--json',
  ]);
  expect(run.code).toBe(1);
  const summary = JSON.parse(run.stdout);
  expect(summary.destinations[0]).toEqual(expect.objectContaining({ ok: false }));
  expect(summary.destinations[0].digest).toBeNull();
  expect(summary.destinations[1]).toEqual(expect.objectContaining({ ok: true, digest: image.digest }));
  expect((await raw(plain, 'partial/app:v1')).equals(image.manifest)).toBe(true);
});

test('a destination that takes the manifest but does not serve it back by tag fails (exit 1)', async () => {
  const image = await storeImage(src.host, 'readback/app', 'v1', 'readback');
  const forgetful = await startRegistryProxy(plain.host, { forgetTags: true });
  try {
    const run = await ferryCopy([
      `${proxy.host}/readback/app:v1`,
      '--to',
      `${forgetful.host}/readback/app:v1`,
      '--insecure-registry',
      forgetful.host,
      '--retries',
      '0',
      '--json',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`read back after the push, v1 is missing, not ${image.digest}`);
    expect(JSON.parse(run.stdout).destinations[0]).toEqual(expect.objectContaining({ ok: false }));
  } finally {
    await forgetful.stop();
  }
});

test('a destination whose upload breaks mid-blob does not hold up the others; it alone retries with a fresh read', async () => {
  const image = await storeImage(src.host, 'flaky/app', 'v1', 'flaky', 2_000_000);
  const layer = image.blobs[1];
  const flaky = await startFaultyProxy(plain.host, [{ method: 'PATCH', pathIncludes: '/v2/flaky/app/blobs/uploads/', times: 1, kind: 'reset' }]);
  proxy.log.length = 0;
  try {
    const run = await ferryCopy(
      [`${proxy.host}/flaky/app:v1`, '--to', `${flaky.host}/flaky/app:v1`, '--to', `${secure.host}/flaky/app:v1`, '--insecure-registry', flaky.host, '--json'],
      {},
    );
    expect(run.stderr).not.toContain('FAILED');
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      new RegExp(`retrying in [\\d.]+s \\(attempt 2 of ${DEFAULTS.retries + 1}\\): upload of sha256:[0-9a-f]{64} to ${flaky.host}/flaky/app:v1: `),
    );
    expect(JSON.parse(run.stdout).destinations.map((d: { digest: string }) => d.digest)).toEqual([image.digest, image.digest]);
    expect((await raw(secure, 'flaky/app:v1')).equals(image.manifest)).toBe(true);
    expect((await raw(plain, 'flaky/app:v1')).equals(image.manifest)).toBe(true);
    // One read for both destinations, and one more for the retry of the destination that broke.
    expect(proxy.blobGets(layer).length + proxy.blobGets(image.blobs[0]).length).toBe(3);
  } finally {
    await flaky.stop();
  }
});

test("a destination that keeps answering 429 with Retry-After: 3600 is given up inside --timeout; its POSTs stay within --retries (push's retry budget)", async () => {
  const image = await storeImage(src.host, 'throttled/app', 'v1', 'throttled');
  const throttled = await startFaultyProxy(plain.host, [
    { method: 'POST', pathIncludes: '/v2/throttled/app/blobs/uploads/', times: 1000, kind: 'status', status: 429, headers: { 'retry-after': '3600' } },
  ]);
  try {
    const started = Date.now();
    const run = await ferryCopy([
      `${proxy.host}/throttled/app:v1`,
      '--to',
      `${throttled.host}/throttled/app:v1`,
      '--insecure-registry',
      throttled.host,
      '--retries',
      '2',
      '--timeout',
      '8',
      '--json',
    ]);
    expect(run.code).toBe(1);
    // Retry-After is capped (60 s) and no wait runs past --timeout: the wait is refused, not slept.
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(run.stderr).toContain('no time left for a retry before --timeout 8s');
    expect(throttled.seen.filter((r) => r.method === 'POST').length).toBeLessThanOrEqual(image.blobs.length * 3);
    expect(JSON.parse(run.stdout).destinations[0]).toMatchObject({ ok: false, digest: null });
  } finally {
    await throttled.stop();
  }
});
