/** Running ferry in-process and the real clients (skopeo, HTTP) that check what landed. */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../lib/cli/push';
import { childOutput } from '../support/child-output';
import { tempDir } from '../support/config-fixture';
import { registryHttp } from '../support/registry-http';
import { requireTool } from '../support/tools';
import type { TestRegistry } from './registry-server';

export const USER = 'ferry-tester';
export const PASSWORD = 'correct-horse-battery-9';
export const ECR_PASSWORD = 'stand-in-ecr-password-42';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

type CommandMain = (argv: readonly string[], ctx: { env: Record<string, string | undefined>; stdout: PassThrough; stderr: PassThrough }) => Promise<number>;

/** Runs a ferry command's `main` in this process with its own env, stdout and stderr. */
export async function runInProcess(command: CommandMain, args: readonly string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  const stdout = collect();
  const stderr = collect();
  const code = await command(args, { env, stdout: stdout.stream, stderr: stderr.stream });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** Runs `ferry push` in this process with its own env, stdout and stderr. */
export function ferryPush(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return runInProcess(main, args, env);
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Runs the real command line (bin/ferry.ts through tsx) as a child process. */
export function ferryProcess(args: readonly string[], env: Record<string, string | undefined>, as?: { uid: number; gid: number }): Promise<RunResult> {
  return childOutput(
    spawn(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [path.join(REPO_ROOT, 'bin', 'ferry.ts'), ...args], {
      env: env as NodeJS.ProcessEnv,
      cwd: REPO_ROOT,
      ...as,
    }),
  );
}

/** A DOCKER_CONFIG directory whose config.json holds basic credentials for `host`. */
export function dockerConfig(dir: string, host: string, user: string, password: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }));
  return dir;
}

/** skopeo with an isolated HOME, the registry's CA and, for TLS registries, the test user. */
export function skopeo(
  registry: TestRegistry,
  args: readonly string[],
  creds = `${USER}:${PASSWORD}`,
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  requireTool('skopeo', 'skopeo');
  const [command, ...rest] = args;
  const tlsArgs = registry.tls ? ['--cert-dir', registry.certDir!, '--creds', creds] : ['--tls-verify=false'];
  const full =
    command === 'copy'
      ? ['--insecure-policy', 'copy', ...(registry.tls ? ['--src-cert-dir', registry.certDir!, '--src-creds', creds] : ['--src-tls-verify=false']), ...rest]
      : [command, ...tlsArgs, ...rest];
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-skopeo-home-'));
  return new Promise((resolve) => {
    execFile(
      'skopeo',
      full,
      { env: { PATH: process.env.PATH, HOME: home, TMPDIR: os.tmpdir() }, encoding: 'buffer', maxBuffer: 64 << 20, timeout: 60_000 },
      (err, stdout, stderr) => {
        fs.rmSync(home, { recursive: true, force: true });
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr: stderr.toString() });
      },
    );
  });
}

/** A raw GET/HEAD against the registry, for checks skopeo cannot express (no tag exists). */
export function registryGet(
  registry: TestRegistry,
  urlPath: string,
  method = 'GET',
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return registryHttp(registry, urlPath, method, {
    accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
    ...(registry.tls ? { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` } : {}),
  });
}

export function tmpDir(prefix: string): string {
  return tempDir(`ferry-test-${prefix}-`);
}
