/**
 * The one image shape every reader produces and every writer consumes: manifest bytes
 * with their media type, plus blobs described by digest and size and opened as streams.
 */
import { createHash } from 'node:crypto';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { InputError } from '../common/errors';

export const MediaType = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

export const INDEX_MEDIA_TYPES: readonly string[] = [MediaType.ociIndex, MediaType.dockerManifestList];

export interface Descriptor {
  mediaType: string;
  size: number;
  digest: string;
}

export interface Blob extends Descriptor {
  /** Where the bytes come from, for messages: "<file>: <entry>". */
  readonly origin: string;
  /** A fresh stream of exactly the blob's bytes, each call starting over (retries re-open). */
  open(): Readable;
}

export interface Manifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

export interface Image {
  /** What is tagged: an image manifest, or an index whose children are in `children`. */
  readonly manifest: Manifest;
  /** Manifests an index points at; pushed by digest before the index. */
  readonly children: readonly Manifest[];
  /** Config and layer blobs, each digest once. */
  readonly blobs: readonly Blob[];
  /** Tags recorded in the source (docker-style tarballs), used when no --to is given. */
  readonly repoTags: readonly string[];
  /** Removes temporary files (recompressed docker-save layers). */
  dispose(): void;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST.test(value);
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function manifestOf(bytes: Buffer, mediaType: string): Manifest {
  return { bytes, mediaType, digest: sha256(bytes) };
}

/**
 * go-containerregistry's Docker schema 2 manifest as crane would PUT it: Go's
 * encoding/json of its v1.Manifest struct — compact, fields in declaration order
 * (schemaVersion, mediaType, config, layers; descriptors mediaType, size, digest),
 * empty optional fields omitted, no trailing newline. Matching this byte for byte is
 * what makes a Kaniko tarball land with the digest Kaniko reported.
 */
export function dockerManifest(config: Descriptor, layers: readonly Descriptor[]): Buffer {
  const descriptor = (d: Descriptor) => ({ mediaType: d.mediaType, size: d.size, digest: d.digest });
  const doc = { schemaVersion: 2, mediaType: MediaType.dockerManifest, config: descriptor(config), layers: layers.map(descriptor) };
  // Go escapes <, > and & in strings; none can occur in media types or digests, which
  // the readers validate, so JSON.stringify's output is identical.
  return Buffer.from(JSON.stringify(doc));
}

/**
 * The sha256 and length check of a blob whose bytes pass in chunks. The newest chunk is
 * held back until the next one arrives, and the last one until the whole blob has
 * matched, so a corrupt blob's last bytes are never handed on: an upload fed from here
 * cannot complete, and the blob can never be committed.
 */
export class BlobCheck {
  private readonly hash = createHash('sha256');
  private seen = 0;
  private held?: Buffer;

  /** `onBytes`: told of every chunk handed on (progress). */
  constructor(
    private readonly blob: Blob,
    private readonly onBytes: (n: number) => void = () => {},
  ) {}

  /** Takes the next chunk; returns the chunk held before it, now safe to pass on. Throws InputError past the size. */
  next(chunk: Buffer): Buffer | undefined {
    this.seen += chunk.length;
    if (this.seen > this.blob.size) throw this.mismatch(`more than ${this.blob.size} bytes`);
    this.hash.update(chunk);
    const previous = this.held;
    this.held = chunk;
    if (previous) this.onBytes(previous.length);
    return previous;
  }

  /** At the end: the last chunk if size and digest match; InputError otherwise. */
  finish(): Buffer | undefined {
    if (this.seen !== this.blob.size) throw this.mismatch(`${this.seen} bytes, expected ${this.blob.size}`);
    const actual = `sha256:${this.hash.digest('hex')}`;
    if (actual !== this.blob.digest) throw this.mismatch(`content hashes to ${actual}`);
    if (this.held) this.onBytes(this.held.length);
    return this.held;
  }

  private mismatch(detail: string): InputError {
    return new InputError(`${this.blob.origin}: digest mismatch for ${this.blob.digest}: ${detail}; the image file is corrupt`);
  }
}

/** Passes bytes through a BlobCheck, failing the stream when the blob is not what its descriptor promised. */
export class VerifyingStream extends Transform {
  private readonly check: BlobCheck;

  constructor(blob: Blob, onBytes?: (n: number) => void) {
    super({ highWaterMark: 1 << 20 });
    this.check = new BlobCheck(blob, onBytes);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let ready: Buffer | undefined;
    try {
      ready = this.check.next(chunk);
    } catch (err) {
      return done(err as Error);
    }
    done(null, ready);
  }

  override _flush(done: TransformCallback): void {
    let last: Buffer | undefined;
    try {
      last = this.check.finish();
    } catch (err) {
      return done(err as Error);
    }
    done(null, last);
  }
}

/** Opens a blob through the verifier. */
export function openVerified(blob: Blob, onBytes?: (n: number) => void): Readable {
  const source = blob.open();
  const verifier = new VerifyingStream(blob, onBytes);
  source.on('error', (err) => verifier.destroy(err));
  return source.pipe(verifier);
}
