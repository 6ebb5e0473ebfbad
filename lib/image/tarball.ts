/**
 * Docker-style image tarballs: go-containerregistry's format as Kaniko's --tar-path
 * writes it (config entry `sha256:<hex>`, compressed layers `<hex>.tar.gz`) and
 * `docker save` / skopeo docker-archive (uncompressed `layer.tar` entries). Both carry a
 * `manifest.json` and no registry manifest; the manifest is rebuilt the way crane does.
 */

import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { mapLimit } from '../common/concurrency';
import { InputError, parseJsonInput } from '../common/errors';
import type { FileSource } from './archive';
import { type Blob, type Descriptor, dockerManifest, type Image, isDigest, MediaType, manifestOf, sha256 } from './image';

export const TARBALL_MANIFEST = 'manifest.json';

interface TarballEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

type Compression = 'gzip' | 'zstd' | 'none';

function compressionOf(magic: Buffer): Compression {
  if (magic[0] === 0x1f && magic[1] === 0x8b) return 'gzip';
  if (magic.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** Names that are content addresses: Kaniko's `<hex>.tar.gz`, `sha256:<hex>`, `blobs/sha256/<hex>`. */
function digestFromName(name: string): string | undefined {
  const m = /^(?:sha256:|blobs\/sha256\/)?([a-f0-9]{64})(?:\.tar\.gz)?$/.exec(name);
  return m && (name.startsWith('sha256:') || name.startsWith('blobs/') || name.endsWith('.tar.gz')) ? `sha256:${m[1]}` : undefined;
}

function readEntry(src: FileSource): TarballEntry {
  const entries = parseJsonInput<TarballEntry[]>(src.read(TARBALL_MANIFEST), `${src.location}: ${TARBALL_MANIFEST}`);
  if (!Array.isArray(entries) || entries.length === 0) throw new InputError(`${src.location}: ${TARBALL_MANIFEST} lists no image`);
  if (entries.length > 1) throw new InputError(`${src.location}: ${TARBALL_MANIFEST} lists ${entries.length} images; ferry pushes one image per file`);
  const entry = entries[0];
  if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers))
    throw new InputError(`${src.location}: ${TARBALL_MANIFEST} needs "Config" and "Layers"`);
  return entry;
}

function diffIdsOf(src: FileSource, configName: string, config: Buffer): string[] {
  const diffIds = parseJsonInput<{ rootfs?: { diff_ids?: unknown } } | null>(config, `${src.location}: image config ${configName}`)?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || !diffIds.every(isDigest)) throw new InputError(`${src.location}: image config ${configName} has no valid rootfs.diff_ids`);
  return diffIds;
}

class HashingCounter extends Transform {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/**
 * Gzips an uncompressed layer once into a temp file, taking the compressed digest and
 * size and the diff_id from the same pass. Level 1, as crane uses: the layer is
 * re-read at upload, so speed matters more than a few percent of size.
 */
async function recompress(src: FileSource, name: string, expectedDiffId: string, tmpDir: string): Promise<Blob> {
  const uncompressed = new HashingCounter();
  const compressed = new HashingCounter();
  const file = path.join(tmpDir, `layer-${createHash('sha1').update(name).digest('hex')}.tar.gz`);
  await pipeline(src.open(name), uncompressed, zlib.createGzip({ level: 1 }), compressed, fs.createWriteStream(file));
  const diffId = `sha256:${uncompressed.hash.digest('hex')}`;
  if (diffId !== expectedDiffId)
    throw new InputError(`${src.location}: layer ${name} hashes to ${diffId} but the config's diff_id is ${expectedDiffId}; the image file is corrupt`);
  return {
    mediaType: MediaType.dockerLayerGzip,
    size: compressed.bytes,
    digest: `sha256:${compressed.hash.digest('hex')}`,
    origin: `${src.location}: ${name} (gzipped)`,
    open: () => fs.createReadStream(file, { highWaterMark: 1 << 20 }),
  };
}

async function hashOf(src: FileSource, name: string): Promise<string> {
  const counter = new HashingCounter();
  await pipeline(src.open(name), counter, async (chunks: AsyncIterable<Buffer>) => {
    for await (const _ of chunks);
  });
  return `sha256:${counter.hash.digest('hex')}`;
}

async function compressedLayer(src: FileSource, name: string, compression: Compression): Promise<Blob> {
  return {
    mediaType: compression === 'zstd' ? MediaType.ociLayerZstd : MediaType.dockerLayerGzip,
    size: src.size(name),
    digest: digestFromName(name) ?? (await hashOf(src, name)),
    origin: `${src.location}: ${name}`,
    open: () => src.open(name),
  };
}

function configBlob(src: FileSource, name: string, bytes: Buffer): Blob {
  const digest = sha256(bytes);
  const named = digestFromName(name) ?? (/^([a-f0-9]{64})\.json$/.exec(path.posix.basename(name)) ? `sha256:${path.posix.basename(name, '.json')}` : undefined);
  if (named && named !== digest) throw new InputError(`${src.location}: image config ${name} hashes to ${digest}; the image file is corrupt`);
  return { mediaType: MediaType.dockerConfig, size: bytes.length, digest, origin: `${src.location}: ${name}`, open: () => Readable.from([bytes]) };
}

const liveTempDirs = new Set<string>();
let exitHookInstalled = false;

function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  liveTempDirs.delete(dir);
}

/** Temp dirs are also removed when the process exits early (a signal handler calls exit). */
function makeTempDir(): string {
  if (!exitHookInstalled) process.once('exit', () => liveTempDirs.forEach(removeTempDir));
  exitHookInstalled = true;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-'));
  liveTempDirs.add(dir);
  return dir;
}

export interface TarballOptions {
  /** Parallel recompressions of docker-save layers. */
  jobs: number;
}

export async function readTarball(src: FileSource, opts: TarballOptions): Promise<Image> {
  const entry = readEntry(src);
  const configBytes = src.read(entry.Config);
  const config = configBlob(src, entry.Config, configBytes);
  const diffIds = diffIdsOf(src, entry.Config, configBytes);
  if (diffIds.length !== entry.Layers.length) {
    throw new InputError(`${src.location}: ${TARBALL_MANIFEST} lists ${entry.Layers.length} layers but the config has ${diffIds.length} diff_ids`);
  }
  let tmpDir: string | undefined;
  const dispose = () => {
    if (tmpDir) removeTempDir(tmpDir);
  };
  try {
    const layers = await mapLimit(entry.Layers, opts.jobs, async (name, i) => {
      const compression = compressionOf(Buffer.concat([src.head(name, 4), Buffer.alloc(4)]));
      if (compression !== 'none') return compressedLayer(src, name, compression);
      tmpDir ??= makeTempDir();
      return recompress(src, name, diffIds[i], tmpDir);
    });
    const descriptors: Descriptor[] = layers;
    const manifest = manifestOf(dockerManifest(config, descriptors), MediaType.dockerManifest);
    const unique = new Map<string, Blob>([config, ...layers].map((b) => [b.digest, b]));
    return { manifest, children: [], blobs: [...unique.values()], repoTags: entry.RepoTags ?? [], dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}
