import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { anchorsOf, brokenLinks, linksOf, slug } from './markdown';

const ROOT = path.resolve(__dirname, '..', '..');
const DOCS = path.join(ROOT, 'docs');

/** README.md and every Markdown page under docs/. */
function pages(): string[] {
  const under = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const full = path.join(dir, e.name);
      return e.isDirectory() ? under(full) : e.name.endsWith('.md') ? [full] : [];
    });
  return [path.join(ROOT, 'README.md'), ...under(DOCS)];
}

describe('every relative link in the README and docs/ resolves', () => {
  test.each(pages().map((p) => path.relative(ROOT, p)))('%s', (page) => {
    expect(brokenLinks(ROOT, path.join(ROOT, page))).toEqual([]);
  });

  test('the docs index links every page in docs/', () => {
    const index = path.join(DOCS, 'README.md');
    const linked = new Set(linksOf(fs.readFileSync(index, 'utf8')).map((l) => path.resolve(DOCS, l.target.split('#')[0])));
    const unlinked = pages().filter((p) => p.startsWith(DOCS + path.sep) && p !== index && !linked.has(p));
    expect(unlinked.map((p) => path.relative(ROOT, p))).toEqual([]);
  });
});

describe('the link check itself', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-links-'));
    fs.writeFileSync(path.join(dir, 'other.md'), '# Other page\n\n## Deploy, one account at a time\n\n## `ferry push`: flags\n\n## Notes\n\n## Notes\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function check(markdown: string): string[] {
    const page = path.join(dir, 'page.md');
    fs.writeFileSync(page, markdown);
    return brokenLinks(dir, page);
  }

  test('a link to a file that does not exist is reported with its line', () => {
    expect(check('intro\n\nsee [gone](gone.md)\n')).toEqual(['page.md:3: gone.md: gone.md does not exist']);
  });

  test('a link to a heading that does not exist is reported', () => {
    expect(check('[x](other.md#deploy)\n')).toEqual(['page.md:1: other.md#deploy: other.md has no heading with anchor #deploy']);
  });

  test('anchors follow GitHub: punctuation dropped, code spans kept as text, repeats numbered', () => {
    expect(check('[a](other.md#deploy-one-account-at-a-time) [b](other.md#ferry-push-flags) [c](other.md#notes-1)\n')).toEqual([]);
    expect(check('[d](other.md#notes-2)\n')).toEqual(['page.md:1: other.md#notes-2: other.md has no heading with anchor #notes-2']);
  });

  test('a same-page anchor is checked against the page itself', () => {
    expect(check('# Title\n\n[ok](#title) [bad](#nope)\n')).toEqual(['page.md:3: #nope: page.md has no heading with anchor #nope']);
  });

  test('a link that leaves the repository is reported', () => {
    expect(check('[up](../outside.md)\n')).toEqual(['page.md:1: ../outside.md: points outside the repository']);
  });

  test('an anchor into a file that is not Markdown is reported', () => {
    fs.writeFileSync(path.join(dir, 'data.json'), '{}');
    expect(check('[j](data.json#L1)\n')).toEqual(['page.md:1: data.json#L1: #L1 points into data.json, which is not a Markdown page']);
  });

  test('reference definitions and images are checked, external links are not', () => {
    expect(check('![img](pic.png)\n\n[ref]: missing.md\n\n[web](https://example.com/x.md) [mail](mailto:a@b.c)\n')).toEqual([
      'page.md:1: pic.png: pic.png does not exist',
      'page.md:3: missing.md: missing.md does not exist',
    ]);
  });

  test('link syntax inside code is not a link', () => {
    expect(check('```sh\necho [x](gone.md)\n```\n\n`[y](gone.md)` and ``[z](gone.md)``\n')).toEqual([]);
  });

  test('link text may hold code spans and brackets', () => {
    expect(linksOf('[Try `ferry push` [locally]](other.md#notes)')).toEqual([{ line: 1, target: 'other.md#notes' }]);
  });

  test('slugs of the headings this repository uses', () => {
    expect(slug('Synthesizer: `bootstrapped` or `cli-credentials`')).toBe('synthesizer-bootstrapped-or-cli-credentials');
    expect(slug('`<partition>.yaml`: destinations in one partition (any other file name)')).toBe(
      'partitionyaml-destinations-in-one-partition-any-other-file-name',
    );
    expect(slug('Try `ferry push` locally')).toBe('try-ferry-push-locally');
    expect([...anchorsOf('# A\n\n```\n# not a heading\n```\n\n## A\n')]).toEqual(['a', 'a-1']);
  });
});
