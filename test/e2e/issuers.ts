/**
 * OIDC issuers the stand-ins play: the build cluster's (projected ServiceAccount tokens, as the
 * EKS pod identity webhook mounts them) and each account's outbound web identity issuer (STS
 * GetWebIdentityToken). Keys, signatures and verification are jose's; nothing is hand-rolled.
 * Each issuer serves `/.well-known/openid-configuration` and its JWKS at its own URL, through
 * the TLS front, and verifiers fetch them from there the way IAM does.
 */
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';

export interface IssuedToken {
  readonly token: string;
  readonly expiration: Date;
}

interface SigningKeyPair {
  readonly privateKey: jose.CryptoKey;
  readonly jwk: jose.JWK;
}

export class TestIssuer {
  private constructor(
    /** `https://host/path` without trailing slash: the `iss` claim. */
    readonly url: string,
    private readonly keys: ReadonlyMap<string, SigningKeyPair>,
  ) {}

  /** An issuer with one key per algorithm (the first signs by default). */
  static async create(url: string, algorithms: readonly string[] = ['RS256']): Promise<TestIssuer> {
    const keys = new Map<string, SigningKeyPair>();
    for (const alg of algorithms) {
      const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
      keys.set(alg, { privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid: randomUUID(), alg, use: 'sig' } });
    }
    return new TestIssuer(url.replace(/\/$/, ''), keys);
  }

  get host(): string {
    return new URL(this.url).host;
  }

  /** Answers the issuer's discovery and JWKS paths; undefined for any other path. */
  document(path: string): unknown {
    const base = new URL(this.url).pathname.replace(/\/$/, '');
    if (path === `${base}/.well-known/openid-configuration`) {
      return {
        issuer: this.url,
        jwks_uri: `${this.url}/keys`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: [...this.keys.keys()],
      };
    }
    if (path === `${base}/keys`) return { keys: [...this.keys.values()].map((k) => k.jwk) };
    return undefined;
  }

  async sign(claims: jose.JWTPayload & { sub: string; aud: string | string[] }, lifetimeSeconds: number, alg = [...this.keys.keys()][0]): Promise<IssuedToken> {
    const key = this.keys.get(alg);
    if (!key) throw new Error(`issuer ${this.url} has no ${alg} key`);
    const now = Math.floor(Date.now() / 1000);
    const exp = now + lifetimeSeconds;
    const token = await new jose.SignJWT({ ...claims, jti: randomUUID() })
      .setProtectedHeader({ alg, kid: key.jwk.kid, typ: 'JWT' })
      .setIssuer(this.url)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .sign(key.privateKey);
    return { token, expiration: new Date(exp * 1000) };
  }
}

/** Fetches a JSON document over HTTPS (through the TLS front); supplied by the front. */
export type FetchJson = (url: string) => Promise<unknown>;

/**
 * Verifies a token as IAM does for an OIDC provider: discovery document at the issuer, its
 * JWKS, signature, `iss` equal to the provider URL, not expired. Audience and subject are the
 * trust policy's business and are checked by the caller.
 */
export async function verifyWebIdentityToken(token: string, issuerUrl: string, fetchJson: FetchJson): Promise<jose.JWTPayload> {
  const discovery = (await fetchJson(`${issuerUrl}/.well-known/openid-configuration`)) as { issuer?: string; jwks_uri?: string };
  if (discovery.issuer !== issuerUrl || !discovery.jwks_uri) throw new Error(`the discovery document of ${issuerUrl} names issuer ${discovery.issuer}`);
  const jwks = jose.createLocalJWKSet((await fetchJson(discovery.jwks_uri)) as jose.JSONWebKeySet);
  const { payload } = await jose.jwtVerify(token, jwks, { issuer: issuerUrl, algorithms: ['RS256', 'ES384', 'ES256'] });
  return payload;
}

/** The claims of a token without verifying it: only to find which provider must verify it. */
export function unverifiedClaims(token: string): jose.JWTPayload {
  return jose.decodeJwt(token);
}
