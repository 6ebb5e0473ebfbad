/** Shared by the benchmarks: run a command several times, report medians. */
import { type SpawnSyncOptions, spawnSync } from 'node:child_process';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Wall seconds of one run; throws with the command's stderr when it fails. */
export function timeCommand(command: string, args: readonly string[], options: SpawnSyncOptions = {}): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${String(result.stderr).trim()}`);
  return seconds;
}

export function verdict(ok: boolean): string {
  return ok ? 'met' : 'MISSED';
}
