/**
 * Self-signed test certificates made by the real openssl, so TLS in the tests is verified
 * exactly as a user's would be. One place for the key type, lifetime and CA flag.
 */
import { execFileSync } from 'node:child_process';
import { requireTool } from './tools';

/** `openssl req` arguments for a fresh, unencrypted P-256 key: the one key type of every test certificate. */
export const NEW_P256_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'] as const;

export interface SelfSignedOptions {
  /** Where the PEM private key is written. */
  readonly keyFile: string;
  /** Where the PEM certificate is written. */
  readonly certFile: string;
  /** The certificate's subject, e.g. `/CN=ferry test registry`. */
  readonly subject: string;
  /** subjectAltName entries such as `IP:127.0.0.1` or `DNS:localhost`; none for a pure CA. */
  readonly altNames?: readonly string[];
  /** Further `-addext` values, after basicConstraints. */
  readonly extensions?: readonly string[];
}

/** Writes a P-256 self-signed CA certificate, valid for two days, and its key. */
export function selfSignedCa(options: SelfSignedOptions): void {
  requireTool('openssl', 'openssl');
  const altNames = options.altNames ?? [];
  const extensions = [
    ...(altNames.length > 0 ? [`subjectAltName=${altNames.join(',')}`] : []),
    'basicConstraints=critical,CA:TRUE',
    ...(options.extensions ?? []),
  ];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...NEW_P256_KEY,
      '-keyout',
      options.keyFile,
      '-out',
      options.certFile,
      '-days',
      '2',
      '-subj',
      options.subject,
      ...extensions.flatMap((ext) => ['-addext', ext]),
    ],
    { stdio: 'pipe' },
  );
}
