/**
 * Tar rules: a malformed or ambiguous archive is refused with exit 2 and a line naming
 * the file, before anything is pushed. Archives are written by GNU tar where it can
 * write them, by hand where only a hostile writer would.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { indexTar, MAX_HEADER_EXTENSION } from '../../lib/image/archive';
import { unprivilegedFerry, unprivilegedPlace } from '../support/unprivileged';
import { kanikoTar, makeFixture, SMALL_LAYERS } from './fixtures';
import { ferryPush, tmpDir } from './helpers';

let work: string;
let kaniko: string;

beforeAll(async () => {
  work = tmpDir('archive');
  kaniko = kanikoTar(await makeFixture(path.join(work, 'image'), SMALL_LAYERS.slice(0, 1)));
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** One 512-byte ustar header with a valid checksum; `size` as 11 octal digits or, when a Buffer, raw. */
function header(name: string, type: string, size: number | Buffer): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  if (Buffer.isBuffer(size)) size.copy(h, 124);
  else h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write(type, 156);
  h.write('ustar\u000000', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

function write(name: string, ...parts: Buffer[]): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, Buffer.concat([...parts, Buffer.alloc(1024)]));
  return file;
}

async function refused(image: string, message: RegExp): Promise<void> {
  const run = await ferryPush([image, '--to', '127.0.0.1:9/never/app:v1', '--insecure-registry', '127.0.0.1:9', '--json'], {});
  expect(run.stderr).toMatch(message);
  expect(run.code).toBe(2);
  expect(run.stdout).toBe('');
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
}

test('a name that appears twice among the entries ferry reads (manifest.json appended by GNU tar) is refused', async () => {
  const dup = path.join(work, 'dup.tar');
  fs.copyFileSync(kaniko, dup);
  const extra = path.join(work, 'extra');
  fs.mkdirSync(extra);
  fs.writeFileSync(path.join(extra, 'manifest.json'), '[]');
  execFileSync('tar', ['--format=ustar', '-rf', dup, '-C', extra, 'manifest.json']);
  await refused(dup, /holds manifest\.json more than once/);
});

test('a duplicate of a name ferry does not read is harmless', () => {
  const tar = write(
    'dup-unread.tar',
    header('junk', '0', 1),
    pad(Buffer.from('a')),
    header('junk', '0', 1),
    pad(Buffer.from('b')),
    header('ok', '0', 2),
    pad(Buffer.from('ok')),
  );
  expect([...indexTar(tar).keys()].sort()).toEqual(['junk', 'ok']);
});

test('an 8 GiB PAX header (base-256 size) is refused by the cap, not by running out of memory', async () => {
  const size = Buffer.alloc(12);
  size[0] = 0x80;
  size.writeUIntBE(8 * 1024 ** 3, 6, 6);
  await refused(
    write('pax-8g.tar', header('././@PaxHeader', 'x', size)),
    new RegExp(`extension header \\(type x\\) at byte 0 is 8589934592 bytes, over the ${MAX_HEADER_EXTENSION}-byte limit`),
  );
});

test('a GNU long name just over the cap is refused even though its data is all there', async () => {
  const n = MAX_HEADER_EXTENSION + 1;
  await refused(
    write('gnu-long.tar', header('././@LongLink', 'L', n), pad(Buffer.alloc(n, 0x61)), header('x', '0', 0)),
    /extension header \(type L\) .* over the/,
  );
});

test('a size field that is not a number is a malformed archive', async () => {
  await refused(
    write('bad-size.tar', header('manifest.json', '0', Buffer.from('zzzzzzzzzzz\0'))),
    /malformed tar header at byte 0 \(size field is not a number\)/,
  );
});

test('a PAX size record that is not a number is a malformed archive', async () => {
  const record = '16 size=12abc99\n';
  await refused(
    write('pax-size.tar', header('././@PaxHeader', 'x', record.length), pad(Buffer.from(record)), header('manifest.json', '0', 0)),
    /malformed PAX size "12abc99"/,
  );
});

// Root reads any file, so as root the CLI runs as an unprivileged user, compiled into a directory
// that user can reach: the checkout itself may be in one it cannot (a 0700 home, /root).
const place = unprivilegedPlace();
(place.dir ? test : test.skip)(
  `an image file ferry may not read exits 2 (EACCES), run as an unprivileged user${place.reason ? ` (skipped: ${place.reason})` : ''}`,
  async () => {
    const ferry = unprivilegedFerry(place.dir!);
    try {
      const locked = path.join(ferry.dir, 'locked.tar');
      const readable = path.join(ferry.dir, 'readable.tar');
      fs.copyFileSync(kaniko, locked);
      fs.copyFileSync(kaniko, readable);
      fs.chmodSync(locked, 0o000);
      fs.chmodSync(readable, 0o644);
      const run = await ferry.run(['push', locked, '--to', '127.0.0.1:9/x:v1']);
      expect(run.stderr.trim()).toMatch(new RegExp(`^ferry push: ${locked}: cannot read( the image)? \\(EACCES\\)$`));
      expect(run.code).toBe(2);
      // The same user reads the same image next to it, and gets as far as the registry: the file's mode refused it, nothing else.
      const control = await ferry.run(['push', readable, '--to', '127.0.0.1:9/x:v1', '--retries', '0']);
      expect(control.stderr).not.toMatch(/EACCES/);
      expect(control.stderr).toMatch(/127\.0\.0\.1:9/);
      expect(control.code).toBe(1);
    } finally {
      ferry.remove();
    }
  },
);
