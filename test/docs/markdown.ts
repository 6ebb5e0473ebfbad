/**
 * Just enough Markdown to check relative links the way GitHub renders them: the links outside
 * code, the headings and the anchors GitHub derives from them.
 *
 * Written here rather than taken from markdown-it + github-slugger: for one test those would add
 * two devDependencies to the pusher's lockfile, and github-slugger 2 is ESM-only, which jest
 * under @swc/jest (CommonJS) cannot require. The slug rule below is github-slugger's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Link {
  readonly line: number;
  readonly target: string;
}

/** Lines of `text` outside fenced code blocks, with their 1-based numbers. */
function proseLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((raw, i) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(raw)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && raw.trim() === marker) fence = undefined;
    } else if (marker) {
      fence = marker;
    } else {
      out.push({ line: i + 1, text: raw });
    }
  });
  return out;
}

/** Code spans open and close with the same number of backticks; their content is not Markdown. */
const CODE_SPAN = /(?<!`)(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g;

function withoutCodeSpans(line: string): string {
  return line.replace(CODE_SPAN, (m) => ' '.repeat(m.length));
}

/** Every inline link and image destination, and every reference definition, outside code. */
export function linksOf(text: string): Link[] {
  const links: Link[] = [];
  for (const { line, text: raw } of proseLines(text)) {
    const prose = withoutCodeSpans(raw);
    for (const m of prose.matchAll(/!?\[(?:[^[\]]|\[[^[\]]*\])*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ line, target: m[1].replace(/^<|>$/g, '') });
    }
    const definition = /^ {0,3}\[[^\]]+\]:\s*(\S+)/.exec(prose);
    if (definition) links.push({ line, target: definition[1].replace(/^<|>$/g, '') });
  }
  return links;
}

/** Links that leave the repository's files: a scheme (https:, mailto:) or a protocol-relative host. */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');
}

/** GitHub's anchor for a heading: inline Markdown to text, lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  let text = '';
  let last = 0;
  for (const m of heading.matchAll(CODE_SPAN)) {
    text += plainText(heading.slice(last, m.index)) + m[2].replace(/^ (.*) $/, '$1');
    last = m.index + m[0].length;
  }
  text += plainText(heading.slice(last));
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Text of inline Markdown outside code spans: link texts, no tags, no emphasis markers. */
function plainText(markdown: string): string {
  return markdown
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/(\*\*|__|\*|_)(\S(?:.*?\S)?)\1/g, '$2');
}

/** Every anchor a page offers: heading slugs (repeats get -1, -2, ... as on GitHub) and HTML ids. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text: prose } of proseLines(text)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(prose);
    if (heading) {
      const base = slug(heading[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of withoutCodeSpans(prose).matchAll(/<a\s[^>]*\b(?:id|name)="([^"]+)"/gi)) anchors.add(m[1]);
  }
  return anchors;
}

/** Why a relative link from `file` does not resolve, or undefined when it does. */
export function brokenReason(root: string, file: string, target: string): string | undefined {
  const hash = target.indexOf('#');
  const pathPart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash)).replace(/\?.*$/, '');
  const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const resolved = pathPart === '' ? file : path.resolve(path.dirname(file), pathPart);
  const relative = path.relative(root, resolved);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return 'points outside the repository';
  if (!fs.existsSync(resolved)) return `${relative || '.'} does not exist`;
  if (anchor === undefined) return undefined;
  if (!resolved.endsWith('.md') || fs.statSync(resolved).isDirectory()) return `#${anchor} points into ${relative}, which is not a Markdown page`;
  if (!anchorsOf(fs.readFileSync(resolved, 'utf8')).has(anchor)) return `${relative} has no heading with anchor #${anchor}`;
  return undefined;
}

/** Every broken relative link of one page, as `file:line: target: reason`. */
export function brokenLinks(root: string, file: string): string[] {
  return linksOf(fs.readFileSync(file, 'utf8'))
    .filter((link) => !isExternal(link.target))
    .flatMap((link) => {
      const reason = brokenReason(root, file, link.target);
      return reason ? [`${path.relative(root, file)}:${link.line}: ${link.target}: ${reason}`] : [];
    });
}
