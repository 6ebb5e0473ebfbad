/** Recognises what kind of image a path holds and hands it to the right reader. */
import * as fs from 'node:fs';
import { errorMessage, InputError } from '../common/errors';
import { DirSource, type FileSource, TarSource } from './archive';
import type { Image } from './image';
import { LAYOUT_MARKER, readLayout } from './layout';
import { readTarball, TARBALL_MANIFEST } from './tarball';

const MACHINE_ERRORS = new Set(['ENOSPC', 'ENOMEM', 'EMFILE', 'ENFILE', 'EDQUOT']);

function sourceOf(location: string): FileSource {
  const stat = fs.statSync(location, { throwIfNoEntry: false });
  if (!stat) throw new InputError(`${location}: no such file or directory`);
  if (stat.isDirectory()) return new DirSource(location);
  if (!stat.isFile()) throw new InputError(`${location}: not a regular file or directory`);
  return new TarSource(location);
}

/**
 * A docker-style manifest.json wins over an OCI layout in the same archive: newer
 * `docker save` writes both, with uncompressed OCI layers, and crane reads manifest.json.
 */
export async function openImage(location: string, opts: { jobs: number }): Promise<Image> {
  try {
    return await readImage(location, opts);
  } catch (err) {
    // Reading the image touches no network: EACCES, EISDIR, a JSON document of the wrong
    // shape are the image's fault and never worth a retry. Only a full or exhausted
    // machine (temp space for recompressed layers, file handles) may do better next time.
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof InputError || (code && MACHINE_ERRORS.has(code))) throw err;
    throw new InputError(`${location}: cannot read the image (${code ?? errorMessage(err)})`);
  }
}

async function readImage(location: string, opts: { jobs: number }): Promise<Image> {
  const src = sourceOf(location);
  if (src.has(TARBALL_MANIFEST)) return readTarball(src, opts);
  if (src.has(LAYOUT_MARKER) && src.has('index.json')) return readLayout(src);
  throw new InputError(
    `${location}: not an image (expected ${TARBALL_MANIFEST} of a Kaniko/docker-save tarball, or ${LAYOUT_MARKER} + index.json of an OCI layout)`,
  );
}
