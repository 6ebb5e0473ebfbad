/**
 * A throwaway certificate authority and one server certificate for the AWS host names the
 * stand-ins answer. ferry and the AWS SDK verify TLS as usual; the test only adds this CA
 * (NODE_EXTRA_CA_CERTS), as a cluster would add a corporate CA bundle.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NEW_P256_KEY, selfSignedCa } from '../support/certificates';

export interface TestCertificates {
  /** PEM file of the CA: NODE_EXTRA_CA_CERTS for clients. */
  readonly caFile: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export function issueCertificates(dir: string, names: readonly string[]): TestCertificates {
  fs.mkdirSync(dir, { recursive: true });
  const file = (name: string): string => path.join(dir, name);
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe' });
  };
  selfSignedCa({ keyFile: file('ca.key'), certFile: file('ca.pem'), subject: '/CN=ferry e2e test CA', extensions: ['keyUsage=critical,keyCertSign'] });
  run(['req', ...NEW_P256_KEY, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=aws stand-in']);
  fs.writeFileSync(file('server.ext'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
  run([
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('server.ext'),
    '-out',
    file('server.pem'),
  ]);
  const read = (name: string): string => fs.readFileSync(file(name), 'utf8');
  return { caFile: file('ca.pem'), ca: read('ca.pem'), cert: read('server.pem'), key: read('server.key') };
}
