/** The `WWW-Authenticate` challenge a registry answers 401 with. */

export interface Challenge {
  readonly scheme: 'basic' | 'bearer';
  readonly params: Readonly<Record<string, string>>;
}

export function parseChallenge(value: string | undefined): Challenge | undefined {
  const m = value && /^\s*(Basic|Bearer)\b(.*)$/i.exec(value);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const [, k, v] of m[2].matchAll(/(\w+)\s*=\s*"([^"]*)"/g)) params[k.toLowerCase()] = v;
  return { scheme: m[1].toLowerCase() as Challenge['scheme'], params };
}
