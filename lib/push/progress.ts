/**
 * Progress on stderr. On a terminal: a live line per blob in flight with bytes and a
 * bar, finished lines scrolling above. Elsewhere (Argo logs, CI): plain lines, one when
 * a blob upload starts and one when it finishes.
 */
import { Writable } from 'node:stream';

export type BlobOutcome = 'pushed' | 'skipped' | 'mounted';

export interface Progress {
  blobStart(dest: string, digest: string, size: number): void;
  blobBytes(dest: string, digest: string, bytes: number): void;
  /** An upload attempt starts over: forget the bytes counted so far. */
  blobRestart(dest: string, digest: string): void;
  blobDone(dest: string, digest: string, size: number, outcome: BlobOutcome): void;
  /** A line that is not about one blob (manifest, retries, results). */
  log(line: string): void;
  close(): void;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function short(digest: string): string {
  return digest.slice(0, 'sha256:'.length + 12);
}

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
    this.out.write(`${line}\n`);
  }

  close(): void {}
}

interface Row {
  label: string;
  size: number;
  done: number;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

class TerminalProgress implements Progress {
  private readonly rows = new Map<string, Row>();
  private drawn = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly out: Writable) {}

  blobStart(dest: string, digest: string, size: number): void {
    this.rows.set(`${dest} ${digest}`, { label: `${dest} ${short(digest)}`, size, done: 0 });
    this.schedule();
  }

  blobBytes(dest: string, digest: string, bytes: number): void {
    const row = this.rows.get(`${dest} ${digest}`);
    if (row) row.done += bytes;
    this.schedule();
  }

  blobRestart(dest: string, digest: string): void {
    const row = this.rows.get(`${dest} ${digest}`);
    if (row) row.done = 0;
  }

  blobDone(dest: string, digest: string, size: number, outcome: BlobOutcome): void {
    this.rows.delete(`${dest} ${digest}`);
    this.log(`${dest}: ${outcome} ${short(digest)} (${formatBytes(size)})`);
  }

  log(line: string): void {
    this.clear();
    this.out.write(`${line}\n`);
    this.draw();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => { this.timer = undefined; this.clear(); this.draw(); }, REDRAW_MS);
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    const lines = [...this.rows.values()].map((r) => {
      const filled = r.size ? Math.round((r.done / r.size) * BAR_WIDTH) : BAR_WIDTH;
      return `${r.label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${formatBytes(r.done)} / ${formatBytes(r.size)}`;
    });
    if (lines.length) this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}

export function createProgress(out: Writable & { isTTY?: boolean }): Progress {
  return out.isTTY ? new TerminalProgress(out) : new PlainProgress(out);
}
