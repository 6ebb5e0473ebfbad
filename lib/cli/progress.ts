/**
 * Progress on stderr as plain lines: one when a blob upload starts and one when it
 * finishes, then results. Every line passes through `sanitize`, so no control character
 * (a registry's forged newline or terminal escape) reaches the log.
 */
import type { Writable } from 'node:stream';
import { sanitize } from '../common/errors';
import type { BlobOutcome, Progress } from '../registry/progress';

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function short(digest: string): string {
  return digest.slice(0, 'sha256:'.length + 12);
}

const MAX_LINE = 2000;

class PlainProgress implements Progress {
  private readonly started = new Map<string, number>();

  constructor(private readonly out: Writable) {}

  blobStart(dest: string, digest: string, size: number): void {
    this.started.set(`${dest} ${digest}`, Date.now());
    this.log(`${dest}: uploading ${short(digest)} (${formatBytes(size)})`);
  }

  blobBytes(): void {}

  blobRestart(): void {}

  blobDone(dest: string, digest: string, size: number, outcome: BlobOutcome): void {
    const since = this.started.get(`${dest} ${digest}`);
    const took = since === undefined ? '' : ` in ${((Date.now() - since) / 1000).toFixed(1)}s`;
    this.log(`${dest}: ${outcome} ${short(digest)} (${formatBytes(size)})${took}`);
  }

  log(line: string): void {
    this.out.write(`${sanitize(line, MAX_LINE)}\n`);
  }

  close(): void {}
}

/**
 * Plain lines on terminals too. The redrawing progress display was removed: nothing
 * tested it, and Argo logs, where ferry runs, are not terminals.
 */
export function createProgress(out: Writable): Progress {
  return new PlainProgress(out);
}
