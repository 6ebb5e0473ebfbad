/**
 * `ferry status`: which tags of one repository each registry holds, and at which digest, read
 * only. The first repository (the build registry's) is the reference: every other cell says
 * whether that registry holds the tag at the same digest, at another one, or not at all.
 *
 * Referrer tags (`sha256-<hex>` and cosign's `.sig`/`.att`/`.sbom`) are left out: they follow
 * their images, and would bury the tags people ask about.
 */
import { errorMessage, isUnfixable, sanitize } from '../common/errors';
import { listTags } from '../registry/pull';
import { REFERRER_TAG } from '../registry/referrers';
import { scopes } from '../registry/remote';
import { type Repository, tagDigests } from './sync';

/**
 * What one registry holds for a tag, compared with the reference (the first repository):
 *  - reference: this is the reference column, and it holds the tag;
 *  - same / different: the tag is there at the reference's digest, or at another one;
 *  - extra: the tag is there, but not in the reference;
 *  - unknown: the tag is there, but the reference could not be read to compare;
 *  - missing: the tag is not there.
 */
export type CellState = 'reference' | 'same' | 'different' | 'extra' | 'unknown' | 'missing';

export interface Cell {
  readonly state: CellState;
  readonly digest: string | null;
}

export interface StatusColumn {
  /** `host/repository`. */
  readonly repository: string;
  /** Set when the registry could not be read: its cells are then unknown. */
  readonly error?: string;
  /** No retry can fix the error (bad credentials flags, TLS refusal). */
  readonly errorUnfixable?: boolean;
}

export interface StatusRow {
  readonly tag: string;
  /** One per column that could be read, in column order; null where the column could not be read. */
  readonly cells: readonly (Cell | null)[];
}

export interface StatusReport {
  readonly columns: readonly StatusColumn[];
  readonly rows: readonly StatusRow[];
}

const label = (r: Repository) => `${r.registry.host}/${r.repository}`;

type Holdings = { ok: true; digests: Map<string, string> } | { ok: false; error: string; unfixable: boolean };

/** Every matching (non-referrer) tag of a repository with its digest; a missing repository holds none. */
async function holdings(repo: Repository, glob: RegExp, jobs: number, reference: boolean): Promise<Holdings> {
  try {
    // The reference is read with pull scopes; the others with the scopes their credentials were made for.
    const sc = reference ? undefined : scopes(repo.repository);
    const tags = ((await listTags(repo.registry, repo.repository, undefined, sc)) ?? []).filter((t) => !REFERRER_TAG.test(t) && glob.test(t));
    return { ok: true, digests: await tagDigests(repo, tags, jobs, sc) };
  } catch (err) {
    return { ok: false, error: sanitize(errorMessage(err), 1000), unfixable: isUnfixable(err) };
  }
}

function cellOf(reference: Holdings, tag: string, digest: string | undefined, isReference: boolean): Cell {
  if (digest === undefined) return { state: 'missing', digest: null };
  if (isReference) return { state: 'reference', digest };
  if (!reference.ok) return { state: 'unknown', digest };
  const expected = reference.digests.get(tag);
  if (expected === undefined) return { state: 'extra', digest };
  return { state: digest === expected ? 'same' : 'different', digest };
}

/** Reads every repository at once; rows are the union of their matching tags, sorted. */
export async function readStatus(reference: Repository, others: readonly Repository[], glob: RegExp, jobs: number): Promise<StatusReport> {
  const repos = [reference, ...others];
  const held = await Promise.all(repos.map((r, i) => holdings(r, glob, jobs, i === 0)));
  const columns = repos.map((r, i): StatusColumn => {
    const h = held[i];
    return h.ok ? { repository: label(r) } : { repository: label(r), error: h.error, errorUnfixable: h.unfixable };
  });
  const tags = [...new Set(held.flatMap((h) => (h.ok ? [...h.digests.keys()] : [])))].sort();
  const rows = tags.map((tag): StatusRow => ({ tag, cells: held.map((h, i) => (h.ok ? cellOf(held[0], tag, h.digests.get(tag), i === 0) : null)) }));
  return { columns, rows };
}
