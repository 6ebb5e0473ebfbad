/**
 * Image references `host[:port]/repo[:tag|@digest]`. A registry host is required: a
 * short name like `app:1` is refused instead of guessed to mean Docker Hub, so an image
 * never lands somewhere nobody named.
 */
import { InputError } from '../common/errors';
import { isDigest } from '../image/image';

export interface Reference {
  /** `host[:port]`, lower-cased. */
  readonly registry: string;
  readonly repository: string;
  /** Tag to set; undefined when the reference pins a digest. */
  readonly tag?: string;
  readonly digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const HOST = /^(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+|[a-z0-9-]+:\d+|\[[0-9a-f:]+\])(?::\d{1,5})?$/;

export const DEFAULT_TAG = 'latest';

function bad(ref: string, why: string): InputError {
  return new InputError(`bad image reference "${ref}": ${why} (expected host[:port]/repository[:tag|@sha256:digest])`);
}

export function parseReference(ref: string): Reference {
  const [nameAndTag, digest, ...extra] = ref.split('@');
  if (extra.length > 0) throw bad(ref, 'more than one "@"');
  if (digest !== undefined && !isDigest(digest)) throw bad(ref, `"${digest}" is not a sha256 digest`);
  const slash = nameAndTag.indexOf('/');
  if (slash < 0) throw bad(ref, 'no registry host');
  const registry = nameAndTag.slice(0, slash).toLowerCase();
  if (!HOST.test(registry)) throw bad(ref, `"${registry}" is not a registry host`);
  const rest = nameAndTag.slice(slash + 1);
  const colon = rest.lastIndexOf(':');
  const repository = colon < 0 ? rest : rest.slice(0, colon);
  const tag = colon < 0 ? undefined : rest.slice(colon + 1);
  if (!repository.split('/').every((c) => COMPONENT.test(c))) throw bad(ref, `"${repository}" is not a valid repository name`);
  if (tag !== undefined && !TAG.test(tag)) throw bad(ref, `"${tag}" is not a valid tag`);
  if (tag !== undefined && digest !== undefined) throw bad(ref, 'give a tag or a digest, not both');
  return { registry, repository, tag: digest ? undefined : (tag ?? DEFAULT_TAG), digest };
}

export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag}`}`;
}
