/**
 * The Node versions ferry supports: the maintained LTS lines 22 and 24, and 20 (end of life since
 * April 2026, still what many build machines run). `engines` in package.json says so to npm, the
 * pusher image's Node (the Dockerfile's NODE_VERSION) is one of them, and @types/node is the
 * oldest supported line, so the code type checks only against APIs every supported Node has.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

// semver is npm's own range logic, in node_modules through the lockfile (aws-cdk-lib, cdk8s-cli);
// it ships no types, and this test needs two functions of it.
const semver: { satisfies(version: string, range: string): boolean; minVersion(range: string): { major: number } | null } = require('semver');

const ROOT = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
const engines: string = pkg.engines.node;

test.each(['20.19.0', '20.20.2', '22.12.0', '22.22.0', '24.11.0', '24.21.0'])('engines accepts Node %s', (version) => {
  expect(semver.satisfies(version, engines)).toBe(true);
});

test.each([
  '18.20.8', // end of life since April 2025
  '20.18.3', // before 20.19, which loads ES modules with require() by default
  '21.7.3', // odd lines are never LTS
  '22.11.0', // before 22.12, the same
  '23.11.1',
  '24.10.0', // 24 before its first LTS release
])('engines refuses Node %s', (version) => {
  expect(semver.satisfies(version, engines)).toBe(false);
});

test('the pusher image runs a Node that engines accepts, and so does this test run', () => {
  const imageNode = /^ARG NODE_VERSION=(\S+)$/m.exec(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
  expect(imageNode).toBeDefined();
  expect(semver.satisfies(imageNode!, engines)).toBe(true);
  expect(semver.satisfies(process.versions.node, engines)).toBe(true);
});

test('@types/node is the oldest supported line, and the lockfile states the same engines', () => {
  expect(semver.minVersion(pkg.devDependencies['@types/node'])?.major).toBe(semver.minVersion(engines)?.major);
  expect(lock.packages[''].engines.node).toBe(engines);
});
