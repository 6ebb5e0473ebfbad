/**
 * What every credential source hands the authenticator: a user name and password for
 * one registry host (Basic auth, or the Basic half of a Bearer token exchange).
 */

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** Where credentials come from; `describe` is safe to print (never a secret). */
export interface CredentialSource {
  readonly describe: string;
  /** `refresh` asks for new credentials (after a 401), not the cached ones. */
  get(refresh: boolean): Promise<Credentials | undefined>;
}

export type Env = Readonly<Record<string, string | undefined>>;

export const anonymous: CredentialSource = { describe: 'anonymous', get: async () => undefined };

/** `user:password` (the password may itself contain ':'). */
export function splitUserPassword(text: string): Credentials {
  const [username, ...rest] = text.split(':');
  return { username, password: rest.join(':') };
}
