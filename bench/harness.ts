/**
 * What bench:push and bench:copy share: the compiled CLI, timed child processes (CPU time
 * and peak RSS from /usr/bin/time -f '%U %S %M'), the 64 MB layers of the benchmark image, and fresh loopback
 * registries per run.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Fixture, type LayerSpec, makeFixture, SMALL_LAYERS } from '../test/push/fixtures';
import { startRegistry, type TestRegistry } from '../test/push/registry-server';
import { requireTool } from '../test/support/tools';

export const ROOT = path.resolve(__dirname, '..');
export const MB = 1 << 20;

export interface Timed {
  seconds: number;
  rssKb?: number;
  /** User + system CPU seconds of the process (under /usr/bin/time). */
  cpuSeconds?: number;
}

/** Runs a command; the last 8000 characters of stdout and stderr come back. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout = (stdout + d).slice(-8000);
    });
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-8000);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stderr, stdout }));
  });
}

/** Wall seconds of one run that must succeed; under /usr/bin/time -f '%U %S %M' also its CPU time and peak RSS. */
export async function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Timed> {
  const started = performance.now();
  const { code, stderr } = await run(cmd, args, env);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(' ')} ... exited ${code}: ${stderr}`);
  const usage = /([\d.]+) ([\d.]+) (\d+)\s*$/.exec(stderr.trim());
  if (cmd !== '/usr/bin/time' || !usage) return { seconds };
  return { seconds, rssKb: Number(usage[3]), cpuSeconds: Number(usage[1]) + Number(usage[2]) };
}

/** `ferry <command> ...` from the compiled CLI (build() first), timed with its CPU time and peak RSS. */
export function ferry(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Timed> {
  return timed('/usr/bin/time', ['-f', '%U %S %M', process.execPath, path.join(ROOT, 'build/bin/ferry.js'), command, ...args], env);
}

/** Compiles the CLI the benchmarks run. */
export function build(): void {
  try {
    execFileSync(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'pipe' });
  } catch (err) {
    // tsc still emits on type errors elsewhere in the tree; the bench only needs the CLI.
    if (!fs.existsSync(path.join(ROOT, 'build/bin/ferry.js'))) throw err;
  }
}

/** `count` layers of 64 MB incompressible data. */
export function largeLayers(count: number): LayerSpec[] {
  return Array.from({ length: count }, (_, i) => ({ randomFile: `big${i}.bin`, bytes: 64 * MB }));
}

/** `--runs N` from the command line; 3 when absent. */
export function runsOption(argv: readonly string[]): number {
  return Number(argv[argv.indexOf('--runs') + 1]) || 3;
}

/** Fails early on a missing tool, then compiles the CLI: what every benchmark needs first. */
export function prepare(): void {
  for (const [tool, pkg] of [
    ['docker-registry', 'docker-registry'],
    ['skopeo', 'skopeo'],
    ['curl', 'curl'],
    ['tar', 'tar'],
  ])
    requireTool(tool, pkg);
  if (!fs.existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is needed for peak RSS: apt-get install -y time');
  build();
}

/** The benchmark image under `dir`: 4 layers of 64 MB incompressible data plus 3 small ones. */
export function makeBenchImage(dir: string): Promise<Fixture> {
  return makeFixture(dir, [...largeLayers(4), ...SMALL_LAYERS]);
}

/** Config plus layers, in MB: the bytes every copy moves. */
export function imageMb(image: Fixture): number {
  return (image.config.length + image.layers.reduce((n, l) => n + l.size, 0)) / MB;
}

/** `count` fresh registries for `fn`, stopped afterwards. */
export async function withRegistries<T>(count: number, fn: (r: TestRegistry[]) => Promise<T>): Promise<T> {
  const registries = await Promise.all(Array.from({ length: count }, () => startRegistry()));
  try {
    return await fn(registries);
  } finally {
    await Promise.all(registries.map((r) => r.stop()));
  }
}

export const fmt = (s: number) => `${s.toFixed(2)} s`;
