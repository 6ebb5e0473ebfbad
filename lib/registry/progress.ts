/**
 * What a push or copy reports while it runs: blob starts, bytes, restarts and outcomes, and
 * lines about the rest. The registry client and the operations report through this; the CLI
 * decides how it is shown (lib/cli/progress.ts).
 */

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
