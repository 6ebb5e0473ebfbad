/**
 * Checks an AWS Signature Version 4 request by recomputing it with the AWS SDK's own signer
 * (@smithy/signature-v4) from the secret the stand-in issued: a request that was not signed
 * with that secret, for that region and service, within the clock skew AWS allows, fails.
 */
import type * as http from 'node:http';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';

export interface SigningKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SignedBy {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
}

export class SignatureError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 5 * 60_000;

/** Who signed, by the Authorization header alone; the caller then looks the key up and calls verify. */
export function signedBy(req: http.IncomingMessage): SignedBy {
  const m = AUTH.exec(String(req.headers.authorization ?? ''));
  if (!m) throw new SignatureError('MissingAuthenticationToken', 'Request is missing Authentication Token');
  return { accessKeyId: m[1], region: m[3], service: m[4] };
}

export async function verifySignature(req: http.IncomingMessage, body: Buffer, key: SigningKey): Promise<void> {
  const m = AUTH.exec(String(req.headers.authorization ?? ''))!;
  const [, , date, region, service, signedHeaders, signature] = m;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!when || !amzDate.startsWith(date)) throw new SignatureError('IncompleteSignature', 'X-Amz-Date is missing or does not match the credential scope');
  const signingDate = new Date(Date.UTC(+when[1], +when[2] - 1, +when[3], +when[4], +when[5], +when[6]));
  if (Math.abs(Date.now() - signingDate.getTime()) > MAX_SKEW_MS) throw new SignatureError('SignatureDoesNotMatch', 'Signature expired');
  if (key.sessionToken !== undefined && req.headers['x-amz-security-token'] !== key.sessionToken) {
    throw new SignatureError('InvalidClientTokenId', 'The security token included in the request is invalid.');
  }
  const names = signedHeaders.split(';');
  if (!names.includes('host')) throw new SignatureError('IncompleteSignature', 'the Host header is not signed');
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = req.headers[name];
    if (value === undefined) throw new SignatureError('IncompleteSignature', `signed header ${name} is missing`);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const url = new URL(req.url ?? '/', 'https://stand-in');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? [...[query[k]].flat(), v] : v;
  const signer = new SignatureV4({ credentials: key, region, service, sha256: Sha256, uriEscapePath: true, applyChecksum: false });
  const expected = await signer.sign(
    { method: req.method ?? 'GET', protocol: 'https:', hostname: headers.host.replace(/:\d+$/, ''), port: undefined, path: url.pathname, query, headers, body },
    { signingDate, signableHeaders: new Set(names), unsignableHeaders: new Set() },
  );
  const got = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization ?? expected.headers.Authorization ?? ''))?.[1];
  if (got !== signature) {
    throw new SignatureError(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
}
