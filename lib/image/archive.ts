/**
 * Named files inside an image source: either a tar archive (indexed once, read by
 * offset) or a directory. Readers (tarball.ts, layout.ts) only see this interface,
 * so an OCI layout works the same from a directory or from a tar of one.
 *
 * The tar index is hand-written rather than taken from a library: the only runtime
 * dependencies are the AWS SDK clients, and what is needed here is narrow — read each
 * 512-byte header once, remember where the data starts, never read the data itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { errorMessage, InputError } from '../common/errors';

export interface FileSource {
  /** For messages: the path the user gave. */
  readonly location: string;
  has(name: string): boolean;
  /** Byte size of a file; throws InputError naming the file when absent. */
  size(name: string): number;
  /** Whole content of a small file (JSON documents). */
  read(name: string): Buffer;
  /** The first `n` bytes (fewer when the file is shorter). */
  head(name: string, n: number): Buffer;
  /** Streams the file's bytes from disk; nothing is buffered beyond the stream's chunk. */
  open(name: string): Readable;
  /** Names of every file, for "not an image" messages and layout discovery. */
  names(): string[];
}

const CHUNK = 1 << 20;
const BLOCK = 512;
const SMALL_FILE_LIMIT = 64 << 20;
/**
 * Largest PAX (x/g) or GNU long-name (L/K) header ferry reads: real ones hold a path or a
 * few attributes; a size beyond this is a malformed or hostile archive, not an image.
 */
export const MAX_HEADER_EXTENSION = 1 << 20;

interface TarEntry {
  offset: number;
  size: number;
  linkTarget?: string;
  /** The archive holds this name more than once: reading it is refused. */
  duplicate?: boolean;
}

function normalize(name: string): string {
  return path.posix.normalize(name.replace(/^\.\//, '')).replace(/^\/+/, '');
}

function cString(buf: Buffer, start: number, end: number): string {
  const slice = buf.subarray(start, end);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul < 0 ? slice.length : nul).toString('utf8');
}

/** Octal size field, or GNU base-256 when the high bit is set (files over 8 GiB). */
function numericField(buf: Buffer, start: number, end: number): number {
  if (buf[start] & 0x80) {
    let value = buf[start] & 0x7f;
    for (let i = start + 1; i < end; i++) value = value * 256 + buf[i];
    return value;
  }
  const text = cString(buf, start, end).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function checksumMatches(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
  return sum === numericField(header, 148, 156);
}

/** PAX records are `<len> <key>=<value>\n`. */
function parsePax(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(data.subarray(pos, space).toString('ascii'), 10);
    if (!(len > 0)) break;
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return records;
}

/**
 * Reads only the headers of a tar file and records where each regular file's data lies.
 * Anything malformed (bad checksum, sizes that are not numbers, oversized extension
 * headers, truncation) is an InputError naming the file and the byte offset.
 */
export function indexTar(file: string): Map<string, TarEntry> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new InputError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`);
  }
  try {
    return readHeaders(file, fd);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${file}: not a readable tar archive (${errorMessage(err)})`);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Two entries with one name would let two readers see two different images in one file
 * (skopeo reads the first, a reader keeping the last sees another image): such a name is marked and ferry
 * refuses to read it.
 */
function record(entries: Map<string, TarEntry>, name: string, entry: TarEntry): void {
  const existing = entries.get(name);
  entries.set(name, existing ? { ...existing, duplicate: true } : entry);
}

function readHeaders(file: string, fd: number): Map<string, TarEntry> {
  const entries = new Map<string, TarEntry>();
  const fileSize = fs.fstatSync(fd).size;
  const header = Buffer.alloc(BLOCK);
  let offset = 0;
  let longName: string | undefined;
  let pax = new Map<string, string>();
  const readData = (at: number, size: number): Buffer => {
    const data = Buffer.alloc(size);
    fs.readSync(fd, data, 0, size, at);
    return data;
  };
  while (offset + BLOCK <= fileSize) {
    fs.readSync(fd, header, 0, BLOCK, offset);
    if (header.every((b) => b === 0)) break;
    if (!checksumMatches(header)) throw new InputError(`${file}: not a tar archive (bad header checksum at byte ${offset})`);
    const type = String.fromCharCode(header[156] || 0x30);
    let size = numericField(header, 124, 136);
    if (!Number.isSafeInteger(size) || size < 0) throw new InputError(`${file}: malformed tar header at byte ${offset} (size field is not a number)`);
    const dataOffset = offset + BLOCK;
    offset = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
    if ('LKxg'.includes(type)) {
      if (size > MAX_HEADER_EXTENSION)
        throw new InputError(
          `${file}: tar extension header (type ${type}) at byte ${dataOffset - BLOCK} is ${size} bytes, over the ${MAX_HEADER_EXTENSION}-byte limit`,
        );
      if (dataOffset + size > fileSize)
        throw new InputError(`${file}: truncated tar archive (extension header at byte ${dataOffset - BLOCK} runs past the end of the file)`);
    }
    if (type === 'L') {
      longName = cString(readData(dataOffset, size), 0, size);
      continue;
    }
    if (type === 'x') {
      pax = parsePax(readData(dataOffset, size));
      continue;
    }
    if (type === 'g' || type === 'K') continue;
    const ustarPrefix = header.subarray(257, 265).toString('latin1') === 'ustar\u000000' ? cString(header, 345, 500) : '';
    const rawName = pax.get('path') ?? longName ?? (ustarPrefix ? `${ustarPrefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
    if (pax.has('size')) {
      size = Number(pax.get('size'));
      if (!Number.isSafeInteger(size) || size < 0)
        throw new InputError(`${file}: malformed PAX size "${pax.get('size')!.slice(0, 40)}" at byte ${dataOffset - BLOCK}`);
      offset = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
    }
    const linkName = pax.get('linkpath') ?? cString(header, 157, 257);
    longName = undefined;
    pax = new Map();
    const name = normalize(rawName);
    if (type === '0' || type === '7') record(entries, name, { offset: dataOffset, size });
    else if (type === '1') record(entries, name, { offset: 0, size: 0, linkTarget: normalize(linkName) });
    else if (type === '2') record(entries, name, { offset: 0, size: 0, linkTarget: normalize(path.posix.join(path.posix.dirname(name), linkName)) });
    if (dataOffset + size > fileSize) throw new InputError(`${file}: truncated tar archive (entry ${name} runs past the end of the file)`);
  }
  return entries;
}

function emptyStream(): Readable {
  return Readable.from([]);
}

export class TarSource implements FileSource {
  private readonly entries: Map<string, TarEntry>;

  constructor(readonly location: string) {
    this.entries = indexTar(location);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.resolve(normalize(name), 0) !== undefined;
  }

  size(name: string): number {
    return this.entry(name).size;
  }

  read(name: string): Buffer {
    const entry = this.entry(name);
    if (entry.size > SMALL_FILE_LIMIT) throw new InputError(`${this.location}: ${name} is ${entry.size} bytes; expected a small JSON file`);
    return this.readAt(entry, entry.size);
  }

  head(name: string, n: number): Buffer {
    const entry = this.entry(name);
    return this.readAt(entry, Math.min(n, entry.size));
  }

  open(name: string): Readable {
    const { offset, size } = this.entry(name);
    if (size === 0) return emptyStream();
    return fs.createReadStream(this.location, { start: offset, end: offset + size - 1, highWaterMark: CHUNK });
  }

  private readAt(entry: TarEntry, n: number): Buffer {
    const buf = Buffer.alloc(n);
    const fd = fs.openSync(this.location, 'r');
    try {
      fs.readSync(fd, buf, 0, n, entry.offset);
    } finally {
      fs.closeSync(fd);
    }
    return buf;
  }

  /** docker save links repeated layers; follow a few hops. */
  private resolve(name: string, depth: number): TarEntry | undefined {
    const entry = this.entries.get(name);
    if (entry?.duplicate) throw new InputError(`${this.location}: the archive holds ${name} more than once; refusing to guess which one is the image`);
    if (!entry?.linkTarget) return entry;
    return depth < 8 ? this.resolve(entry.linkTarget, depth + 1) : undefined;
  }

  private entry(name: string): TarEntry {
    const entry = this.resolve(normalize(name), 0);
    if (!entry) throw new InputError(`${this.location}: missing ${name} in the archive`);
    return entry;
  }
}

export class DirSource implements FileSource {
  constructor(readonly location: string) {}

  names(): string[] {
    return fs
      .readdirSync(this.location, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => normalize(path.relative(this.location, path.join(d.parentPath, d.name)).split(path.sep).join('/')));
  }

  has(name: string): boolean {
    return fs.statSync(this.file(name), { throwIfNoEntry: false })?.isFile() ?? false;
  }

  size(name: string): number {
    const stat = fs.statSync(this.file(name), { throwIfNoEntry: false });
    if (!stat?.isFile()) throw new InputError(`${this.location}: missing ${name}`);
    return stat.size;
  }

  read(name: string): Buffer {
    if (this.size(name) > SMALL_FILE_LIMIT) throw new InputError(`${this.location}: ${name} is too large for a JSON document`);
    return fs.readFileSync(this.file(name));
  }

  head(name: string, n: number): Buffer {
    const fd = fs.openSync(this.file(name), 'r');
    try {
      const buf = Buffer.alloc(Math.min(n, this.size(name)));
      fs.readSync(fd, buf, 0, buf.length, 0);
      return buf;
    } finally {
      fs.closeSync(fd);
    }
  }

  open(name: string): Readable {
    return this.size(name) === 0 ? emptyStream() : fs.createReadStream(this.file(name), { highWaterMark: CHUNK });
  }

  private file(name: string): string {
    const rel = normalize(name);
    if (rel.startsWith('..')) throw new InputError(`${this.location}: ${name} points outside the directory`);
    return path.join(this.location, rel);
  }
}
