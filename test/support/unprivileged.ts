/**
 * Running the real `ferry` CLI as an unprivileged user, for tests of what ferry may not read.
 *
 * Run as root (as CI and many build hosts run), such a test must drop to another user, and that
 * user must reach everything it runs. A checkout under a directory others cannot enter (/root, a
 * 0700 home, `mktemp -d`) is out of its reach, and so is a Node that lives there. So the CLI is
 * compiled from this checkout's sources into a fresh directory the user can reach, next to the
 * files the test hands it, and run by a Node the user can reach (copied there when it cannot).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { childOutput } from './child-output';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** `nobody` on Debian and most distributions: no home, no groups, owns nothing. */
export const UNPRIVILEGED = { uid: 65534, gid: 65534 } as const;

const runningAsRoot = () => process.getuid?.() === 0;

/** Whether the unprivileged user passes `test <flag>` on a path: asked as that user, so modes, ACLs and every parent directory count. */
function userCan(flag: '-r' | '-x', file: string): boolean {
  if (!runningAsRoot()) return true;
  return spawnSync('/bin/sh', ['-c', `test ${flag} "$1"`, 'sh', file], { ...UNPRIVILEGED, stdio: 'ignore' }).status === 0;
}

/**
 * Where the unprivileged user can reach a directory that root makes: the system temp dir, else
 * the usual world-traversable ones. `reason` says why there is none.
 */
export function unprivilegedPlace(): { dir: string; reason?: undefined } | { dir?: undefined; reason: string } {
  const candidates = [...new Set([os.tmpdir(), '/tmp', '/var/tmp'])];
  const dir = candidates.find((d) => fs.existsSync(d) && userCan('-x', d));
  return dir
    ? { dir }
    : {
        reason: `user ${UNPRIVILEGED.uid} cannot enter any of ${candidates.join(', ')}, so it could not run ferry from there; set TMPDIR to a directory it can enter`,
      };
}

export interface UnprivilegedFerry {
  /** A directory the unprivileged user can enter and read: put the test's files here. */
  readonly dir: string;
  /** Runs `ferry <args>` as the unprivileged user (as the current user when not root), in `dir`. */
  run(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  remove(): void;
}

/** Compiles ferry (tsconfig.build.json: bin/ferry.ts and what it imports) into a fresh directory under `place`. */
export function unprivilegedFerry(place: string): UnprivilegedFerry {
  const dir = fs.mkdtempSync(path.join(place, 'ferry-unprivileged-'));
  fs.chmodSync(dir, 0o755);
  const out = path.join(dir, 'build');
  execFileSync(
    path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc'),
    ['-p', path.join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', out, '--sourceMap', 'false'],
    {
      stdio: 'pipe',
    },
  );
  // CommonJS, whatever a package.json above `place` says.
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"commonjs"}\n');
  const node = userCan('-x', process.execPath) ? process.execPath : path.join(dir, 'node');
  if (node !== process.execPath) {
    fs.copyFileSync(process.execPath, node);
    fs.chmodSync(node, 0o755);
  }
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  const cli = path.join(out, 'bin', 'ferry.js');
  if (!userCan('-r', cli)) throw new Error(`user ${UNPRIVILEGED.uid} cannot read ${cli}`);
  return {
    dir,
    run: (args) =>
      childOutput(
        spawn(node, [cli, ...args], {
          cwd: dir,
          env: { PATH: process.env.PATH, HOME: dir },
          ...(runningAsRoot() ? UNPRIVILEGED : {}),
        }),
      ),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
