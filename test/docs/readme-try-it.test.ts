/**
 * The README's "Try `ferry push` locally" runs as written, with bash, against the real Debian
 * `docker-registry`, on a host where the Debian package's own registry service already holds
 * port 5000 with a password (installing the package starts it). Its output has the shape the
 * README shows, and when its registry cannot start it says so instead of pushing elsewhere.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireTool } from '../support/tools';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const README = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
/** Where Debian's docker-registry service listens (its /etc/docker/registry/config.yml: `addr: :5000`). */
const DEBIAN_SERVICE_PORT = 5000;

/** The fenced blocks of one language in the README section that starts with `heading`. */
function blocks(heading: string, language: string): string[] {
  const start = README.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section "${heading}"`);
  const next = README.indexOf('\n## ', start + heading.length + 2);
  const section = README.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]);
}

const SECTION = '## Try `ferry push` locally';
const script = blocks(SECTION, 'sh').join('\n');
const shown = blocks(SECTION, 'text').join('');
const port = Number(/^port=(\d+)$/m.exec(script)?.[1]);

/** What varies from run to run (digests: tar records times and owners; sizes; durations), so only the shape is compared. */
function shape(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) =>
      l
        .replace(/sha256:[0-9a-f]{64}/g, 'sha256:<digest>')
        .replace(/sha256:[0-9a-f]{12}\b/g, 'sha256:<short>')
        .replace(/\(\d+ B\)/g, '(<n> B)')
        .replace(/ in \d+(\.\d+)?s\b/g, ' in <t>s'),
    )
    .sort();
}

let work: string;
let stopDebianService: (() => void) | undefined;

/** Runs the section's shell blocks, one after another in one bash, from the clone; stdout and stderr as a terminal shows them. */
function runTryIt(): Promise<{ code: number | null; output: string }> {
  const tmp = fs.mkdtempSync(path.join(work, 'tmp-'));
  // -e: a command that fails ends the run, as a reader would stop there.
  const bash = spawn('bash', ['-e', '-c', script], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, HOME: work, TMPDIR: tmp }, detached: true });
  let output = '';
  bash.stdout.on('data', (d) => (output += d));
  bash.stderr.on('data', (d) => (output += d));
  return new Promise((resolve) =>
    bash.on('close', (code) => {
      // Whatever the blocks left running when one of them failed (the registry); on success the last block stops it.
      if (code !== 0) {
        try {
          process.kill(-bash.pid!, 'SIGTERM');
        } catch {}
      }
      resolve({ code, output });
    }),
  );
}

function listening(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(p, '127.0.0.1');
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

/**
 * What `apt-get install docker-registry` leaves running: the registry on port 5000, behind
 * htpasswd. Started here unless something already holds the port (then that is the situation).
 */
async function startDebianService(): Promise<(() => void) | undefined> {
  if (await listening(DEBIAN_SERVICE_PORT)) return undefined;
  const dir = fs.mkdtempSync(path.join(work, 'debian-service-'));
  fs.writeFileSync(path.join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', 'debian', 'not-your-password']));
  fs.writeFileSync(
    path.join(dir, 'config.yml'),
    [
      'version: 0.1',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${dir}/data`,
      'http:',
      `  addr: 127.0.0.1:${DEBIAN_SERVICE_PORT}`,
      'auth:',
      '  htpasswd:',
      '    realm: basic-realm',
      `    path: ${dir}/htpasswd`,
      '',
    ].join('\n'),
  );
  const service = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(await listening(DEBIAN_SERVICE_PORT)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await listening(DEBIAN_SERVICE_PORT))) throw new Error(`the stand-in for Debian's registry service did not start on ${DEBIAN_SERVICE_PORT}`);
  return () => service.kill();
}

beforeAll(async () => {
  requireTool('docker-registry', 'docker-registry');
  requireTool('skopeo', 'skopeo');
  requireTool('htpasswd', 'apache2-utils');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-readme-try-it-'));
  stopDebianService = await startDebianService();
});

afterAll(() => {
  stopDebianService?.();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the section names its port once, as a variable, and it is not 5000', () => {
  expect(port).toBeGreaterThan(0);
  expect(port).not.toBe(DEBIAN_SERVICE_PORT);
  expect(script).not.toMatch(new RegExp(`:${port}\\b`));
  expect(script).not.toMatch(/:5000\b/);
});

test('runs as written while the Debian registry service holds port 5000, and prints what the README shows', async () => {
  expect(await listening(DEBIAN_SERVICE_PORT)).toBe(true);
  const run = await runTryIt();
  if (run.code !== 0) throw new Error(`the try-it exited ${run.code}:\n${run.output}`);
  expect(shape(run.output)).toEqual(shape(shown));
  // skopeo, an independent client, reads back the digest ferry reported.
  const [, pushed] = /^pushing hello\.tar \((sha256:[0-9a-f]{64})\)/m.exec(run.output) ?? [];
  expect(run.output.split('\n')).toContain(pushed);
  // The last block stopped the registry (SIGTERM: it exits within moments, not at once).
  for (let i = 0; i < 50 && (await listening(port)); i++) await new Promise((r) => setTimeout(r, 100));
  expect(await listening(port)).toBe(false);
}, 120_000);

test('when its registry cannot start (the port is taken), it shows the registry log and stops before pushing', async () => {
  const squatter = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
  try {
    const run = await runTryIt();
    expect(run.code).not.toBe(0);
    expect(run.output).toContain(`listen tcp 127.0.0.1:${port}: bind: address already in use`);
    expect(run.output).toContain(`the registry did not start on 127.0.0.1:${port}: see its log above`);
    expect(run.output).not.toMatch(/^pushing /m);
  } finally {
    squatter.close();
  }
}, 60_000);
