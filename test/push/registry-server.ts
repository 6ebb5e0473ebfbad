/**
 * Starts Debian's `docker-registry` (distribution 2.8) on a free 127.0.0.1 port with fresh
 * storage under the OS temp dir: either TLS with a self-signed certificate (SAN
 * IP:127.0.0.1) and bcrypt htpasswd users, or plain HTTP without auth.
 * Used by the tests and by bench/push.ts. Every registry started is killed on stop()
 * and, as a last resort, when the process exits.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { selfSignedCa } from '../support/certificates';
import { requireTool } from '../support/tools';

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly tls: boolean;
  /** PEM of the self-signed certificate (TLS only). */
  readonly ca?: string;
  readonly caFile?: string;
  /** The certificate's private key (TLS only), for test servers that pose as another host on 127.0.0.1. */
  readonly keyFile?: string;
  /** A directory holding ca.crt, for skopeo --cert-dir (TLS only). */
  readonly certDir?: string;
  readonly storage: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  selfSignedCa({ keyFile: key, certFile: cert, subject: '/CN=ferry test registry', altNames: ['IP:127.0.0.1'] });
  return { cert, key };
}

function htpasswdFile(dir: string, users: Record<string, string>): string {
  requireTool('htpasswd', 'apache2-utils');
  const file = path.join(dir, 'htpasswd');
  const lines = Object.entries(users).map(([user, password]) => execFileSync('htpasswd', ['-nbB', '-C', '4', user, password], { encoding: 'utf8' }).trim());
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function probe(url: string, ca: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { ca, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 || res.statusCode === 401);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(1000, () => req.destroy());
  });
}

export interface RegistryOptions {
  /** TLS + htpasswd with these users; plain HTTP without auth when absent. */
  readonly users?: Record<string, string>;
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const binary = requireTool('docker-registry', 'docker-registry');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-registry-'));
  const storage = path.join(root, 'storage');
  fs.mkdirSync(storage);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const tls = opts.users !== undefined;
  const lines = [
    'version: 0.1',
    'log: {level: warn, accesslog: {disabled: true}}',
    `storage: {filesystem: {rootdirectory: "${storage}"}, delete: {enabled: true}, maintenance: {uploadpurging: {enabled: false}}}`,
  ];
  let ca: string | undefined;
  let caFile: string | undefined;
  let keyFile: string | undefined;
  let certDir: string | undefined;
  if (tls) {
    const { cert, key } = selfSignedCert(root);
    ca = fs.readFileSync(cert, 'utf8');
    caFile = cert;
    keyFile = key;
    certDir = path.join(root, 'certs.d');
    fs.mkdirSync(certDir);
    fs.copyFileSync(cert, path.join(certDir, 'ca.crt'));
    lines.push(`http: {addr: "${host}", secret: ferry-test-secret, tls: {certificate: "${cert}", key: "${key}"}}`);
    lines.push(`auth: {htpasswd: {realm: ferry-test, path: "${htpasswdFile(root, opts.users!)}"}}`);
  } else {
    lines.push(`http: {addr: "${host}", secret: ferry-test-secret}`);
  }
  const config = path.join(root, 'config.yml');
  fs.writeFileSync(config, `${lines.join('\n')}\n`);
  const child = spawn(binary, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
    running.delete(child);
  });
  const stop = async (): Promise<void> => {
    if (!exited) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    }
    fs.rmSync(root, { recursive: true, force: true });
  };
  const url = `${tls ? 'https' : 'http'}://${host}/v2/`;
  const deadline = Date.now() + 20_000;
  while (!(await probe(url, ca))) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not start on ${host}: ${stderr || '(no output)'}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host, tls, ca, caFile, keyFile, certDir, storage, stop };
}
