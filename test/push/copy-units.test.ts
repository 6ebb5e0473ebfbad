/** The pieces of copy and sync that need no registry: the fan-out, tag globs, manifest parsing. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InputError } from '../../lib/common/errors';
import { type Blob, BlobCheck } from '../../lib/image/image';
import { AbandonedError, Fanout } from '../../lib/operations/fanout';
import { globToRegExp } from '../../lib/operations/sync';
import { parseManifest } from '../../lib/registry/pull';

const chunks = (n: number, size = 64 * 1024) => Array.from({ length: n }, (_, i) => Buffer.alloc(size, i % 256));

function drain(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    stream.on('data', (c: Buffer) => got.push(c));
    stream.on('end', () => resolve(Buffer.concat(got)));
    stream.on('error', reject);
  });
}

describe('Fanout', () => {
  test('every branch gets every byte, in order', async () => {
    const fan = new Fanout();
    const branches = [fan.branch(), fan.branch(), fan.branch()];
    const data = chunks(40);
    const [, ...out] = await Promise.all([pipeline(Readable.from(data), fan), ...branches.map(drain)]);
    for (const o of out) expect(o.equals(Buffer.concat(data))).toBe(true);
  });

  test('the writer waits for the slowest branch: memory stays bounded', async () => {
    const fan = new Fanout();
    const fast = fan.branch();
    const slow = fan.branch();
    let produced = 0;
    const source = Readable.from(
      (function* () {
        for (const c of chunks(200)) {
          produced += c.length;
          yield c;
        }
      })(),
    );
    const done = pipeline(source, fan);
    fast.resume();
    await new Promise((r) => setTimeout(r, 100));
    // 12.5 MB offered; without backpressure it would all be buffered for the paused branch.
    expect(produced).toBeLessThan(4 << 20);
    slow.resume();
    await done;
    expect(produced).toBe(200 * 64 * 1024);
  });

  test('a branch that closes early is dropped and does not stall the others', async () => {
    const fan = new Fanout();
    const keep = fan.branch();
    const quit = fan.branch();
    setTimeout(() => quit.destroy(), 10);
    const [, out] = await Promise.all([pipeline(Readable.from(chunks(100)), fan), drain(keep)]);
    expect(out.length).toBe(100 * 64 * 1024);
  });

  test('when every branch is gone the fan-out ends the source with AbandonedError', async () => {
    const fan = new Fanout();
    const only = fan.branch();
    setTimeout(() => only.destroy(), 10);
    await expect(pipeline(Readable.from(chunks(1000)), fan)).rejects.toBeInstanceOf(AbandonedError);
  });

  test('a source failure reaches every branch', async () => {
    const fan = new Fanout();
    const branches = [fan.branch(), fan.branch()];
    const failing = new Readable({
      read() {
        this.destroy(new Error('source broke'));
      },
    });
    const results = await Promise.allSettled([pipeline(failing, fan), ...branches.map(drain)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });
});

describe('Fanout with a BlobCheck', () => {
  const blobOf = (data: Buffer[]): Blob => {
    const all = Buffer.concat(data);
    const digest = `sha256:${createHash('sha256').update(all).digest('hex')}`;
    return { mediaType: 'application/octet-stream', size: all.length, digest, origin: 'test blob', open: () => Readable.from(data) };
  };

  /** Everything a branch received before it ended or failed, and how it ended. */
  function collect(stream: Readable): Promise<{ bytes: Buffer; error?: unknown }> {
    return new Promise((resolve) => {
      const got: Buffer[] = [];
      stream.on('data', (c: Buffer) => got.push(c));
      stream.on('end', () => resolve({ bytes: Buffer.concat(got) }));
      stream.on('error', (error) => resolve({ bytes: Buffer.concat(got), error }));
    });
  }

  test('a blob that matches reaches every branch whole, and progress counts every byte', async () => {
    const data = chunks(30);
    let counted = 0;
    const fan = new Fanout(new BlobCheck(blobOf(data), (n) => (counted += n)));
    const branches = [fan.branch(), fan.branch()];
    const [, ...out] = await Promise.all([pipeline(Readable.from(data), fan), ...branches.map(collect)]);
    for (const o of out) {
      expect(o.error).toBeUndefined();
      expect(o.bytes.equals(Buffer.concat(data))).toBe(true);
    }
    expect(counted).toBe(30 * 64 * 1024);
  });

  test.each([1, 3])('a corrupt blob fails all %i branch(es) before its last chunk reaches any of them', async (count) => {
    const data = chunks(30);
    const blob = blobOf(data);
    const corrupt = data.map((c, i) => (i === 29 ? Buffer.alloc(c.length, 0xff) : c));
    const fan = new Fanout(new BlobCheck(blob));
    const branches = Array.from({ length: count }, () => fan.branch());
    const [piped, ...out] = await Promise.allSettled([pipeline(Readable.from(corrupt), fan), ...branches.map(collect)]);
    expect(piped.status).toBe('rejected');
    expect((piped as PromiseRejectedResult).reason).toBeInstanceOf(InputError);
    for (const o of out as PromiseFulfilledResult<{ bytes: Buffer; error?: unknown }>[]) {
      expect(o.value.error).toBeInstanceOf(InputError);
      expect(o.value.bytes.length).toBeLessThan(blob.size);
    }
  });

  test('more bytes than the descriptor says fail before the extra bytes pass', async () => {
    const data = chunks(4);
    const fan = new Fanout(new BlobCheck(blobOf(data.slice(0, 3))));
    const branch = fan.branch();
    const [piped, out] = await Promise.all([pipeline(Readable.from(data), fan).catch((e: unknown) => e), collect(branch)]);
    expect(piped).toBeInstanceOf(InputError);
    expect(String((piped as Error).message)).toContain('more than');
    expect(out.bytes.length).toBeLessThan(3 * 64 * 1024);
  });
});

test('tag globs: *, ?, classes; everything else literal', () => {
  const m = (glob: string, tag: string) => globToRegExp(glob).test(tag);
  expect(m('*', 'anything-1.2')).toBe(true);
  expect(m('v*', 'v1.2.3')).toBe(true);
  expect(m('v*', 'release-v1')).toBe(false);
  expect(m('v?.0', 'v1.0')).toBe(true);
  expect(m('v?.0', 'v10.0')).toBe(false);
  expect(m('v1.0', 'v1x0')).toBe(false);
  expect(m('v[12]', 'v2')).toBe(true);
  expect(m('v[!12]', 'v2')).toBe(false);
  expect(m('v[!12]', 'v3')).toBe(true);
  expect(() => globToRegExp('v[1')).toThrow('"[" without a closing "]"');
});

test('manifest parsing keeps the bytes, finds blobs and children, leaves foreign layers out', () => {
  const foreign = {
    mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
    digest: `sha256:${'f'.repeat(64)}`,
    size: 9,
    urls: ['https://example.com/l'],
  };
  const layer = { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: `sha256:${'a'.repeat(64)}`, size: 3 };
  const config = { mediaType: 'application/vnd.docker.container.image.v1+json', digest: `sha256:${'c'.repeat(64)}`, size: 2 };
  const bytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config, layers: [foreign, layer] }, null, 1),
  );
  const m = parseManifest(bytes, undefined, 'here');
  expect(m.bytes).toBe(bytes);
  expect(m.blobs.map((b) => b.digest)).toEqual([config.digest, layer.digest]);
  const index = parseManifest(
    Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ ...config, mediaType: 'application/vnd.oci.image.manifest.v1+json' }] })),
    'application/vnd.oci.image.index.v1+json',
    'here',
  );
  expect(index.manifests).toHaveLength(1);
  expect(index.blobs).toEqual([]);
  expect(() => parseManifest(Buffer.from('{"schemaVersion":2,"config":{"digest":"nope"}}'), undefined, 'there')).toThrow(
    'there: a descriptor without a valid mediaType',
  );
});
