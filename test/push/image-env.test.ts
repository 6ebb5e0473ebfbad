/**
 * The pusher image's allocator tunables (Dockerfile ENV, docs/push.md): setting glibc's trim
 * threshold alone also pins its mmap threshold at 128 KiB (mallopt(3)), which made ferry push map
 * every file-read buffer anew (three times its CPU); so whenever the one is set, the other is too,
 * above the 64 KiB HTTP chunks, and the heap kept is at least what it may hand out at once.
 */
import { imageEnv } from '../support/dockerfile';

function tunables(): Map<string, string> {
  const value = imageEnv().GLIBC_TUNABLES ?? '';
  return new Map(
    value
      .split(':')
      .filter(Boolean)
      .map((t) => t.split('=') as [string, string]),
  );
}

test('a trim threshold comes with an mmap threshold above the HTTP chunks, and within the kept heap', () => {
  const t = tunables();
  if (!t.has('glibc.malloc.trim_threshold')) return expect(t.has('glibc.malloc.mmap_threshold')).toBe(false);
  const mmap = Number(t.get('glibc.malloc.mmap_threshold'));
  const trim = Number(t.get('glibc.malloc.trim_threshold'));
  expect(mmap).toBeGreaterThan(64 * 1024);
  expect(trim).toBeGreaterThanOrEqual(mmap);
  // glibc's largest mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX): a larger value is ignored.
  expect(mmap).toBeLessThanOrEqual(32 * 1024 * 1024);
});
