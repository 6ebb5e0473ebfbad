/**
 * OCI image layouts (a directory or a tar of one). The manifest is pushed with its
 * exact bytes, so the digest in index.json is the digest that lands.
 */

import { InputError, parseJsonInput } from '../common/errors';
import type { FileSource } from './archive';
import { type Blob, type Descriptor, type Image, INDEX_MEDIA_TYPES, isDigest, type Manifest, sha256 } from './image';

export const LAYOUT_MARKER = 'oci-layout';
const REF_NAME = 'org.opencontainers.image.ref.name';

interface IndexDescriptor extends Descriptor {
  annotations?: Record<string, string>;
}

function blobPath(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

function checkDescriptor(src: FileSource, where: string, d: Partial<Descriptor> | undefined): Descriptor {
  if (!d || typeof d.mediaType !== 'string' || !isDigest(d.digest) || !Number.isSafeInteger(d.size)) {
    throw new InputError(`${src.location}: ${where} has a descriptor without a valid mediaType, size and sha256 digest`);
  }
  return d as Descriptor;
}

function readJsonBlob(src: FileSource, d: Descriptor): { bytes: Buffer; doc: Record<string, unknown> } {
  const name = blobPath(d.digest);
  if (!src.has(name)) throw new InputError(`${src.location}: missing blob ${name} (${d.mediaType})`);
  const bytes = src.read(name);
  if (sha256(bytes) !== d.digest || bytes.length !== d.size)
    throw new InputError(`${src.location}: ${name} does not match its descriptor (digest or size differs); the layout is corrupt`);
  return { bytes, doc: parseJsonInput<Record<string, unknown>>(bytes, `${src.location}: ${name}`) };
}

function blobOf(src: FileSource, d: Descriptor): Blob {
  const name = blobPath(d.digest);
  if (!src.has(name)) throw new InputError(`${src.location}: missing layer ${name} (${d.mediaType})`);
  if (src.size(name) !== d.size) throw new InputError(`${src.location}: ${name} is ${src.size(name)} bytes but its descriptor says ${d.size}`);
  return { mediaType: d.mediaType, size: d.size, digest: d.digest, origin: `${src.location}: ${name}`, open: () => src.open(name) };
}

function imageBlobs(src: FileSource, d: Descriptor, doc: Record<string, unknown>): Blob[] {
  const where = `manifest ${d.digest}`;
  const config = checkDescriptor(src, `${where} config`, doc.config as Descriptor);
  if (!Array.isArray(doc.layers)) throw new InputError(`${src.location}: ${where} has no "layers" array`);
  const layers = doc.layers.map((l: Descriptor, i: number) => checkDescriptor(src, `${where} layer ${i}`, l));
  return [config, ...layers].map((b) => blobOf(src, b));
}

function chooseRoot(src: FileSource): IndexDescriptor {
  const index = parseJsonInput<{ manifests?: IndexDescriptor[] } | null>(src.read('index.json'), `${src.location}: index.json`);
  const manifests = Array.isArray(index?.manifests) ? index.manifests : [];
  if (manifests.length !== 1) {
    throw new InputError(`${src.location}: index.json lists ${manifests.length} manifests; ferry pushes a layout holding exactly one image or index`);
  }
  return checkDescriptor(src, 'index.json', manifests[0]) as IndexDescriptor;
}

/** A ref-name annotation that is a full reference (has a registry host) is a default destination. */
function repoTagsOf(root: IndexDescriptor): string[] {
  const name = root.annotations?.[REF_NAME];
  return name?.includes('/') ? [name] : [];
}

export function readLayout(src: FileSource): Image {
  const root = chooseRoot(src);
  const { bytes, doc } = readJsonBlob(src, root);
  const manifest: Manifest = { bytes, digest: root.digest, mediaType: root.mediaType };
  const children: Manifest[] = [];
  const blobs = new Map<string, Blob>();
  const addImage = (d: Descriptor, imageDoc: Record<string, unknown>) => imageBlobs(src, d, imageDoc).forEach((b) => blobs.set(b.digest, b));
  if (INDEX_MEDIA_TYPES.includes(root.mediaType)) {
    const entries = Array.isArray(doc.manifests) ? doc.manifests : [];
    for (const [i, entry] of entries.entries()) {
      const child = checkDescriptor(src, `index ${root.digest} entry ${i}`, entry);
      const read = readJsonBlob(src, child);
      children.push({ bytes: read.bytes, digest: child.digest, mediaType: child.mediaType });
      addImage(child, read.doc);
    }
  } else {
    addImage(root, doc);
  }
  return { manifest, children, blobs: [...blobs.values()], repoTags: repoTagsOf(root), dispose: () => {} };
}
