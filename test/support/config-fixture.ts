/** Copies of the example config that a test can break one line at a time. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const EXAMPLE_CONFIG = path.join(REPO_ROOT, 'config');

export function tempDir(prefix = 'ferry-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A fresh copy of config/ (without the schema folder, which loading does not read). */
export function copyExampleConfig(): string {
  const dir = tempDir('ferry-config-');
  for (const name of fs.readdirSync(EXAMPLE_CONFIG).filter((n) => n.endsWith('.yaml'))) {
    fs.copyFileSync(path.join(EXAMPLE_CONFIG, name), path.join(dir, name));
  }
  return dir;
}

/** Replaces `from` with `to` in one file of a config copy, failing loudly if `from` is absent. */
export function editConfig(dir: string, file: string, from: string | RegExp, to: string): void {
  const target = path.join(dir, file);
  const text = fs.readFileSync(target, 'utf8');
  const edited = text.replace(from, to);
  if (edited === text) throw new Error(`fixture edit found nothing to replace in ${file}: ${from}`);
  fs.writeFileSync(target, edited);
}

export function writeConfig(dir: string, file: string, text: string): void {
  fs.writeFileSync(path.join(dir, file), text);
}
