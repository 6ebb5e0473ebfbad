/**
 * Builds small deterministic images in the four input formats ferry reads, from the
 * same layers: Kaniko --tar-path tarball, `docker save` tarball, OCI layout directory
 * and OCI layout tar. Archives are written by the system `tar`, an implementation
 * independent of ferry's reader. Digests are computed here, independently of ferry's lib/.
 * bench/push.ts uses it with large random layers, so files stream and never sit in memory.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';

export type LayerSpec = { readonly files: Readonly<Record<string, string | Buffer>> } | { readonly randomFile: string; readonly bytes: number };

export interface FixtureLayer {
  /** Uncompressed layer tar. */
  readonly tar: string;
  readonly diffId: string;
  /** gzip of the tar: the blob that is pushed. */
  readonly gz: string;
  readonly digest: string;
  readonly size: number;
}

export interface Fixture {
  readonly dir: string;
  readonly config: Buffer;
  readonly configDigest: string;
  readonly layers: readonly FixtureLayer[];
  readonly repoTags: readonly string[];
}

const TAR_FLAGS = ['--format=ustar', '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner'];

/** `sha256:<hex>` of bytes, computed here independently of ferry's lib/. */
export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Written out by hand: what go-containerregistry's json.Marshal of v1.Manifest gives for a Kaniko tarball of this fixture. */
export function kanikoManifest(f: Fixture): string {
  const layers = f.layers.map((l) => `{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":${l.size},"digest":"${l.digest}"}`);
  return `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":${f.config.length},"digest":"${f.configDigest}"},"layers":[${layers.join(',')}]}`;
}

function hex(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

export async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return `sha256:${hash.digest('hex')}`;
}

function writeRandom(file: string, bytes: number): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(4 << 20);
  for (let left = bytes; left > 0; left -= chunk.length) {
    randomFillSync(chunk);
    fs.writeSync(fd, chunk, 0, Math.min(chunk.length, left));
  }
  fs.closeSync(fd);
}

async function buildLayer(dir: string, index: number, spec: LayerSpec): Promise<FixtureLayer> {
  const staging = path.join(dir, `layer${index}-root`);
  fs.mkdirSync(staging, { recursive: true });
  if ('files' in spec) {
    for (const [name, content] of Object.entries(spec.files)) {
      fs.mkdirSync(path.dirname(path.join(staging, name)), { recursive: true });
      fs.writeFileSync(path.join(staging, name), content);
    }
  } else {
    writeRandom(path.join(staging, spec.randomFile), spec.bytes);
  }
  const tar = path.join(dir, `layer${index}.tar`);
  execFileSync('tar', [...TAR_FLAGS, '-cf', tar, '-C', staging, '.']);
  fs.rmSync(staging, { recursive: true });
  const gz = `${tar}.gz`;
  await pipeline(fs.createReadStream(tar), zlib.createGzip({ level: 'files' in spec ? 6 : 1 }), fs.createWriteStream(gz));
  return { tar, diffId: await fileDigest(tar), gz, digest: await fileDigest(gz), size: fs.statSync(gz).size };
}

export async function makeFixture(dir: string, layers: readonly LayerSpec[], repoTags: readonly string[] = []): Promise<Fixture> {
  fs.mkdirSync(dir, { recursive: true });
  const built: FixtureLayer[] = [];
  for (const [i, spec] of layers.entries()) built.push(await buildLayer(dir, i, spec));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/bin'], Cmd: ['/bin/hello'] },
      created: '2026-01-01T00:00:00Z',
      rootfs: { type: 'layers', diff_ids: built.map((l) => l.diffId) },
      history: built.map((_, i) => ({ created: '2026-01-01T00:00:00Z', created_by: `layer ${i}` })),
    }),
  );
  const configDigest = sha256(config);
  return { dir, config, configDigest, layers: built, repoTags };
}

function stage(fixture: Fixture, name: string): string {
  const staging = path.join(fixture.dir, name);
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  return staging;
}

function tarUp(staging: string, out: string, members: readonly string[]): string {
  execFileSync('tar', [...TAR_FLAGS.filter((f) => f !== '--sort=name'), '-cf', out, '-C', staging, ...members]);
  fs.rmSync(staging, { recursive: true });
  return out;
}

/** go-containerregistry's tarball.Write layout, as Kaniko --tar-path writes it: config, layers, manifest.json last. */
export function kanikoTar(fixture: Fixture, out = path.join(fixture.dir, 'kaniko.tar')): string {
  const staging = stage(fixture, 'kaniko-staging');
  const configName = `sha256:${hex(fixture.configDigest)}`;
  fs.writeFileSync(path.join(staging, configName), fixture.config);
  const layerNames = fixture.layers.map((l) => `${hex(l.digest)}.tar.gz`);
  fixture.layers.forEach((l, i) => fs.linkSync(l.gz, path.join(staging, layerNames[i])));
  fs.writeFileSync(path.join(staging, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: fixture.repoTags, Layers: layerNames }]));
  return tarUp(staging, out, [configName, ...layerNames, 'manifest.json']);
}

/** Classic `docker save`: <id>/layer.tar uncompressed, <config hex>.json, manifest.json, repositories. */
export function dockerSaveTar(fixture: Fixture, out = path.join(fixture.dir, 'docker-save.tar')): string {
  const staging = stage(fixture, 'save-staging');
  const configName = `${hex(fixture.configDigest)}.json`;
  fs.writeFileSync(path.join(staging, configName), fixture.config);
  const layerNames = fixture.layers.map((l) => {
    const id = createHash('sha256').update(`layer id ${l.diffId}`).digest('hex');
    fs.mkdirSync(path.join(staging, id));
    fs.linkSync(l.tar, path.join(staging, id, 'layer.tar'));
    fs.writeFileSync(path.join(staging, id, 'VERSION'), '1.0');
    fs.writeFileSync(path.join(staging, id, 'json'), JSON.stringify({ id }));
    return `${id}/layer.tar`;
  });
  fs.writeFileSync(path.join(staging, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: fixture.repoTags, Layers: layerNames }]));
  fs.writeFileSync(path.join(staging, 'repositories'), '{}');
  return tarUp(staging, out, ['.']);
}

export const OCI = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
};

/**
 * An OCI layout whose manifest is pretty-printed with a trailing newline and an
 * annotation: bytes no re-serializer would reproduce, so exact-bytes pushes show.
 */
export function ociLayoutDir(fixture: Fixture, out = path.join(fixture.dir, 'oci-layout')): { dir: string; manifest: Buffer; digest: string } {
  fs.rmSync(out, { recursive: true, force: true });
  const blobs = path.join(out, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  fs.writeFileSync(path.join(out, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  fs.writeFileSync(path.join(blobs, hex(fixture.configDigest)), fixture.config);
  fixture.layers.forEach((l) => fs.linkSync(l.gz, path.join(blobs, hex(l.digest))));
  const manifest = Buffer.from(
    `${JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: OCI.manifest,
        config: { mediaType: OCI.config, digest: fixture.configDigest, size: fixture.config.length },
        layers: fixture.layers.map((l) => ({ mediaType: OCI.layerGzip, digest: l.digest, size: l.size })),
        annotations: { 'org.opencontainers.image.title': 'ferry fixture' },
      },
      null,
      2,
    )}\n`,
  );
  const digest = sha256(manifest);
  fs.writeFileSync(path.join(blobs, hex(digest)), manifest);
  fs.writeFileSync(
    path.join(out, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: OCI.manifest, digest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
    }),
  );
  return { dir: out, manifest, digest };
}

export function ociLayoutTar(fixture: Fixture, out = path.join(fixture.dir, 'oci-layout.tar')): { tar: string; manifest: Buffer; digest: string } {
  const layout = ociLayoutDir(fixture, path.join(fixture.dir, 'oci-tar-staging'));
  return { tar: tarUp(layout.dir, out, ['.']), manifest: layout.manifest, digest: layout.digest };
}

/** Incompressible but reproducible bytes: a sha256 counter stream. */
export function pseudoRandom(bytes: number, label: string): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0, off = 0; off < bytes; i++, off += 32) createHash('sha256').update(`${label}:${i}`).digest().copy(out, off);
  return out;
}

/** Small layers with a little of everything: nested dirs, text, a binary bigger than one read chunk. */
export const SMALL_LAYERS: readonly LayerSpec[] = [
  { files: { 'bin/hello': '#!/bin/sh\necho hello from ferry\n', 'etc/os-release': 'NAME=fixture\n' } },
  { files: { 'app/blob.bin': pseudoRandom(1_500_000, 'ferry'), 'app/readme.md': '# fixture\n' } },
  { files: { 'app/config.json': '{"k":"v"}\n' } },
];
