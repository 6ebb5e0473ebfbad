/**
 * The pusher image's Dockerfile as a container runtime reads its final stage, so that tests and
 * benchmarks run ferry the way the image does: its environment (ENV) and its argv (ENTRYPOINT, CMD).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const DOCKERFILE = path.join(__dirname, '..', '..', 'Dockerfile');

/** The instructions of the last stage (after the last FROM), one per line as written. */
function finalStage(): string[] {
  const lines = fs.readFileSync(DOCKERFILE, 'utf8').split('\n');
  const from = lines.map((l, i) => (l.startsWith('FROM ') ? i : -1)).filter((i) => i >= 0);
  return lines.slice(from[from.length - 1] ?? 0);
}

/** `ENV KEY=VALUE` of the final stage (one pair per line, the form the Dockerfile uses). */
export function imageEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of finalStage()) {
    const m = /^ENV ([A-Za-z_][A-Za-z0-9_]*)=(\S+)$/.exec(line.trim());
    if (line.startsWith('ENV ') && !m) throw new Error(`Dockerfile: "${line}" is not ENV KEY=VALUE`);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/** The last ENTRYPOINT or CMD of the final stage, which must be in JSON exec form; [] when absent. */
export function imageInstruction(instruction: 'ENTRYPOINT' | 'CMD'): string[] {
  const lines = finalStage().filter((l) => l.startsWith(`${instruction} `));
  if (lines.length === 0) return [];
  const argv = JSON.parse(lines[lines.length - 1].slice(instruction.length + 1));
  if (!Array.isArray(argv)) throw new Error(`Dockerfile ${instruction} is not in JSON exec form`);
  return argv;
}
