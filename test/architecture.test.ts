/**
 * The layout of lib/ as rules on its imports (docs/development.md#layout): each folder may import
 * only the folders below it, and no module imports itself back through others. The imports are
 * read from the source text (static imports, re-exports, require and import()), so a rule that is
 * broken fails here, whatever the bundler or tsc would accept.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

/** What each area may import from lib/ (besides itself). `config/partitions` is pure data. */
const ALLOWED: Record<string, readonly string[]> = {
  contract: [],
  common: ['contract'],
  image: ['common', 'contract'],
  registry: ['common', 'image', 'contract', 'config/partitions'],
  operations: ['registry', 'image', 'common', 'contract', 'config/partitions'],
  cli: ['operations', 'registry', 'image', 'common', 'contract', 'config/partitions'],
  config: ['contract'],
  aws: ['config', 'contract', 'cli-errors'],
  k8s: ['config', 'contract', 'cli-errors'],
  'cli-errors': ['config', 'contract'],
  synth: ['aws', 'k8s', 'config', 'cli-errors', 'contract'],
  'bin/ferry': ['cli', 'contract'],
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(rel);
    return e.name.endsWith('.ts') ? [rel] : [];
  });
}

const SPECIFIER = /(?:\bfrom\s+|\brequire\s*\(\s*|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/** The lib/ or bin/ files a module imports, resolved like Node resolves a relative specifier. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(SPECIFIER)].flatMap(([, spec]) => {
    const base = path.join(path.dirname(file), spec);
    // A data file (package.json, a vendored schema) is not a module of ours.
    if (/\.json$/.test(base)) return [];
    const found = [`${base}.ts`, path.join(base, 'index.ts')].find((c) => fs.existsSync(path.join(ROOT, c)));
    if (!found) throw new Error(`${file}: cannot resolve ${spec}`);
    return [found];
  });
}

/** The area of a file: its first folder under lib/ (or the file), `config/partitions`, or `bin/ferry`. */
function areaOf(file: string): string | undefined {
  if (file === 'bin/ferry.ts') return 'bin/ferry';
  if (!file.startsWith('lib/')) return undefined;
  const rest = file.slice('lib/'.length).replace(/\.ts$/, '');
  return rest.split('/')[0];
}

function allowedTarget(from: string, to: string): boolean {
  const a = areaOf(from);
  const b = areaOf(to);
  if (a === undefined || b === undefined || a === b) return true;
  const target = to === 'lib/config/partitions.ts' ? 'config/partitions' : b;
  return (ALLOWED[a] ?? []).includes(target) || (target === 'config/partitions' && (ALLOWED[a] ?? []).includes('config'));
}

const FILES = [...sourceFiles('lib'), 'bin/ferry.ts'];
const GRAPH = new Map(FILES.map((f) => [f, importsOf(f)]));

test('every lib/ area has a rule', () => {
  const areas = new Set(FILES.map(areaOf));
  expect([...areas].filter((a) => a && !(a in ALLOWED))).toEqual([]);
});

test('no import goes up a layer (lower layers never import the operations or the CLI)', () => {
  const violations = [...GRAPH].flatMap(([from, tos]) => tos.filter((to) => !allowedTarget(from, to)).map((to) => `${from} -> ${to}`));
  expect(violations).toEqual([]);
});

/** Every cycle in an import graph, each as `a -> b -> a`. */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, trail: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...trail.slice(trail.indexOf(file)), file].join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  return cycles;
}

test('no import cycles', () => {
  expect(findCycles(GRAPH)).toEqual([]);
});

test('the rules can fail: an upward import and a cycle are both found', () => {
  expect(allowedTarget('lib/registry/remote.ts', 'lib/cli/shared.ts')).toBe(false);
  expect(allowedTarget('lib/k8s/retry.ts', 'lib/common/errors.ts')).toBe(false);
  expect(allowedTarget('lib/cli/shared.ts', 'lib/registry/remote.ts')).toBe(true);
  const lazyRequire = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['a.ts']],
  ]);
  expect(findCycles(lazyRequire)).toEqual(['a.ts -> b.ts -> a.ts']);
});

test('the pusher build compiles only what bin/ferry needs: no CDK, cdk8s or Argo types', () => {
  const build = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8'));
  expect(build.files).toEqual(['bin/ferry.ts']);
  const reachable = new Set<string>();
  const walk = (f: string): void => {
    if (reachable.has(f)) return;
    reachable.add(f);
    for (const next of GRAPH.get(f) ?? []) walk(next);
  };
  walk('bin/ferry.ts');
  expect([...reachable].filter((f) => /^lib\/(aws|k8s)\//.test(f) || f.startsWith('imports/'))).toEqual([]);
});
