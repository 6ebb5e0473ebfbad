/**
 * Runs the shell steps exactly as emitted (script and env from the synthesized templates) with
 * the local POSIX sh, a real git repository and a real HTTP listener on 127.0.0.1 for Slack.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { pushTaskName } from '../../lib/config/naming';
import { PATH, TEMPLATE, WORKFLOW_TEMPLATE } from '../../lib/k8s/constants';
import { exampleConfig, type Json, manifests } from './helpers';

const config = exampleConfig();
const out = manifests(config);
const [first, second] = config.destinations;
const BUILT = `sha256:${'a'.repeat(64)}`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The template's env with Argo's placeholders replaced the way the controller would. */
function envFor(template: Json, values: Record<string, string>, secret?: string): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  for (const e of template.container.env) {
    if (e.valueFrom?.secretKeyRef) {
      if (secret !== undefined) env[e.name] = secret;
      continue;
    }
    env[e.name] = (e.value as string).replace(/\{\{([^}]+)\}\}/g, (whole, key: string) => values[key.trim()] ?? whole);
  }
  return env;
}

function run(template: Json, env: Record<string, string>, cwd = os.tmpdir()): Promise<Run> {
  const [command, ...args] = [...template.container.command, ...template.container.args];
  return new Promise((resolve) => {
    execFile(command, args, { env, cwd }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

/** Each push task's final phase, as `{{tasks.push-X.status}}` gives it (Succeeded, Failed, Error). */
function pushResults(statuses: Record<string, string>): Record<string, string> {
  return Object.fromEntries(config.destinations.map((d) => [`inputs.parameters.${pushTaskName(d)}-status`, statuses[d.name]]));
}

const common = {
  'inputs.parameters.expected_digest': BUILT,
  'inputs.parameters.image_repository': 'ferry/demo-app',
  'inputs.parameters.image_tag': 'v1.2.3',
  'workflow.name': 'ferry-pipeline-x7k2p',
};
const allGood = pushResults({ [first.name]: 'Succeeded', [second.name]: 'Succeeded' });
// An Errored pod leaves no outputs; its status is still set ("Error" is the node phase).
const oneErrored = pushResults({ [first.name]: 'Error', [second.name]: 'Succeeded' });

describe('verify', () => {
  const verify = out.template(WORKFLOW_TEMPLATE.verify, TEMPLATE.verify);

  test('passes when every push step succeeded (each read the built digest back from its destination)', async () => {
    const r = await run(verify, envFor(verify, { ...common, ...allGood }));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`every destination holds ${BUILT}`);
    for (const d of config.destinations) expect(r.stdout).toMatch(new RegExp(`ok +${d.name} .*@${BUILT}`));
  });

  test('fails naming the destination whose push Failed, and only that one', async () => {
    const r = await run(verify, envFor(verify, { ...common, ...pushResults({ [first.name]: 'Succeeded', [second.name]: 'Failed' }) }));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`FAILED +${second.name} .*push Failed`));
    expect(r.stdout).not.toMatch(new RegExp(`FAILED +${first.name}`));
  });

  test('fails when a push ended in Error (its pod never ran, no outputs)', async () => {
    const r = await run(verify, envFor(verify, { ...common, ...oneErrored }));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`FAILED +${first.name} .*push Error`));
  });

  test('a status that is not Succeeded never passes, whatever it says', async () => {
    for (const status of ['', 'Omitted', 'Skipped', 'succeeded', '{{tasks.push-x.status}}']) {
      const r = await run(verify, envFor(verify, { ...common, ...pushResults({ [first.name]: status, [second.name]: 'Succeeded' }) }));
      expect(r.code).toBe(1);
    }
  });

  test('fails when the build reported no digest at all', async () => {
    const r = await run(verify, envFor(verify, { ...common, ...allGood, 'inputs.parameters.expected_digest': '' }));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no image digest/);
  });
});

describe('notifications', () => {
  const report = out.template(WORKFLOW_TEMPLATE.notify, TEMPLATE.report);
  const alert = out.template(WORKFLOW_TEMPLATE.notify, TEMPLATE.alert);
  let server: http.Server;
  let received: { path: string; contentType?: string; body: string }[];
  let status = 200;
  let url: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', contentType: req.headers['content-type'], body });
        res.writeHead(status).end(status === 200 ? 'ok' : 'no_team');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/s3cr3t-token`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    received = [];
    status = 200;
  });

  test('the report posts workflow, verdict, image, tag and every destination digest', async () => {
    const r = await run(report, envFor(report, { ...common, ...allGood, 'inputs.parameters.verify_status': 'Succeeded' }, url));
    expect(r.code).toBe(0);
    expect(received).toHaveLength(1);
    expect(received[0].path).toBe('/services/T000/B000/s3cr3t-token');
    expect(received[0].contentType).toBe('application/json');
    const text: string = JSON.parse(received[0].body).text;
    expect(text).toContain('ferry ferry-pipeline-x7k2p: Succeeded');
    expect(text).toContain(':v1.2.3');
    for (const d of config.destinations) expect(text).toMatch(new RegExp(`ok +${d.name}: \\S+ferry/demo-app:v1\\.2\\.3@${BUILT}`));
  });

  test('the report names a destination whose push ended in Error', async () => {
    const r = await run(report, envFor(report, { ...common, ...oneErrored, 'inputs.parameters.verify_status': 'Failed' }, url));
    expect(r.code).toBe(0);
    const text: string = JSON.parse(received[0].body).text;
    expect(text).toContain('ferry ferry-pipeline-x7k2p: Failed');
    expect(text).toMatch(new RegExp(`FAILED +${first.name}: \\S+:v1\\.2\\.3: push Error$`, 'm'));
    expect(text).toMatch(new RegExp(`ok +${second.name}:`));
  });

  test('the webhook URL never reaches the log', async () => {
    const r = await run(report, envFor(report, { ...common, ...allGood, 'inputs.parameters.verify_status': 'Succeeded' }, url));
    expect(`${r.stdout}${r.stderr}`).not.toContain('s3cr3t-token');
  });

  test('a refused post fails the step, so Argo retries it', async () => {
    status = 404;
    const r = await run(report, envFor(report, { ...common, ...allGood, 'inputs.parameters.verify_status': 'Succeeded' }, url));
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).not.toContain('s3cr3t-token');
  });

  test('without a webhook the report goes to the log only', async () => {
    const r = await run(report, envFor(report, { ...common, ...allGood, 'inputs.parameters.verify_status': 'Succeeded' }));
    expect(r.code).toBe(0);
    expect(received).toHaveLength(0);
    expect(r.stdout).toContain('ferry ferry-pipeline-x7k2p: Succeeded');
  });

  test('the alert lists failed steps, and quotes in Argo messages stay valid JSON', async () => {
    const failures = JSON.stringify([
      {
        displayName: 'build',
        message: 'Error (exit code 1): "RUN make" failed',
        templateName: 'build',
        phase: 'Failed',
        podName: 'p-1',
        finishedAt: '2026-01-01T00:00:00Z',
      },
    ]);
    const values = { ...common, 'workflow.status': 'Failed', 'workflow.failures': failures, 'inputs.parameters.image_tag': '' };
    const r = await run(alert, envFor(alert, values, url));
    expect(r.code).toBe(0);
    const text: string = JSON.parse(received[0].body).text;
    expect(text).toContain('ferry ferry-pipeline-x7k2p: Failed');
    expect(text).toContain('build: Error (exit code 1): "RUN make" failed');
    expect(text).toContain('(tag from the commit)');
  });
});

describe('clone', () => {
  const clone = out.template(WORKFLOW_TEMPLATE.pipeline, TEMPLATE.clone);
  let repo: string;
  let head: string;
  let work: string;

  const git = (args: string[], cwd: string) =>
    new Promise<string>((resolve, reject) =>
      execFile('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd }, (e, stdout) => (e ? reject(e) : resolve(stdout.trim()))),
    );

  beforeAll(async () => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-clone-src-'));
    await git(['init', '--quiet', '--initial-branch=main'], repo);
    fs.writeFileSync(path.join(repo, 'Dockerfile'), 'FROM scratch\n');
    await git(['add', 'Dockerfile'], repo);
    await git(['commit', '--quiet', '-m', 'first'], repo);
    head = await git(['rev-parse', 'HEAD'], repo);
  });
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-clone-run-'));
  });

  /** The emitted env, with the pod's mount paths moved into a temp dir. */
  function cloneEnv(values: Record<string, string>): Record<string, string> {
    const env = envFor(clone, values);
    for (const key of ['SOURCE_DIR', 'OUT_DIR', 'GIT_CREDENTIALS_DIR', 'HOME']) env[key] = path.join(work, env[key]);
    fs.mkdirSync(env.HOME, { recursive: true });
    return env;
  }

  test('checks out the revision and derives the tag from the commit', async () => {
    const env = cloneEnv({ 'inputs.parameters.repo': `file://${repo}`, 'inputs.parameters.revision': 'main', 'inputs.parameters.image_tag': '' });
    const r = await run(clone, env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(env.SOURCE_DIR, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
    const outputs = (file: string) => fs.readFileSync(path.join(work, file), 'utf8');
    expect(outputs(PATH.commitFile)).toBe(head);
    expect(outputs(PATH.imageTagFile)).toBe(head.slice(0, 12));
  });

  test('keeps a given tag, and refuses one no registry accepts before fetching anything', async () => {
    const ok = cloneEnv({ 'inputs.parameters.repo': `file://${repo}`, 'inputs.parameters.revision': 'main', 'inputs.parameters.image_tag': 'v1.0.0' });
    expect((await run(clone, ok)).code).toBe(0);
    expect(fs.readFileSync(path.join(work, PATH.imageTagFile), 'utf8')).toBe('v1.0.0');

    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-clone-run-'));
    const bad = cloneEnv({ 'inputs.parameters.repo': `file://${repo}`, 'inputs.parameters.revision': 'main', 'inputs.parameters.image_tag': 'bad tag;rm' });
    const r = await run(clone, bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a valid image tag/);
    expect(fs.existsSync(bad.SOURCE_DIR)).toBe(false);
  });

  test('an unknown revision fails the step', async () => {
    const r = await run(
      clone,
      cloneEnv({ 'inputs.parameters.repo': `file://${repo}`, 'inputs.parameters.revision': 'no-such-branch', 'inputs.parameters.image_tag': '' }),
    );
    expect(r.code).not.toBe(0);
  });
});
