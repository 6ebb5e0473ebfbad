/**
 * Registry host names as users write them (`https://Host:5000/`, `host:5000`, `HOST`)
 * reduced to one form, `host[:port]` in lower case, so flags, config.json keys and
 * references compare equal.
 */
export function normalizeHost(value: string): string {
  return value
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}

/** `host:port` → `host`; IPv6 literals keep their brackets. */
export function hostnameOf(host: string): string {
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(host);
  return m ? m[1] : host;
}

/**
 * Hosts named insecure. `host:port` names that port only; a bare `host` names every
 * port of that host, as Docker's and containerd's insecure-registry settings do.
 */
export class HostSet {
  private readonly entries: ReadonlySet<string>;

  constructor(hosts: Iterable<string>) {
    this.entries = new Set([...hosts].map(normalizeHost));
  }

  has(host: string): boolean {
    const h = normalizeHost(host);
    return this.entries.has(h) || this.entries.has(hostnameOf(h));
  }

  get size(): number {
    return this.entries.size;
  }
}
