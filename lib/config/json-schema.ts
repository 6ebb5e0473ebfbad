/**
 * JSON Schemas for editors (yaml-language-server), generated from the zod schemas so the
 * editor and `npm run synth` can never disagree. Committed; a test fails when they are stale.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { type FileKind, SCHEMAS_BY_KIND } from './schema';

export const SCHEMA_DIR = path.join(__dirname, '..', '..', 'config', 'schema');

/** The JSON Schema of one file kind; `io: 'input'` so fields with a default are optional and carry a `default` editors show. */
function jsonSchema(kind: FileKind): JsonSchema {
  return z.toJSONSchema(SCHEMAS_BY_KIND[kind], { io: 'input' }) as JsonSchema;
}

export function renderSchemas(): Record<string, string> {
  return Object.fromEntries(Object.keys(SCHEMAS_BY_KIND).map((kind) => [`${kind}.schema.json`, `${JSON.stringify(jsonSchema(kind as FileKind), null, 2)}\n`]));
}

export function writeSchemas(dir: string = SCHEMA_DIR): void {
  for (const [file, text] of Object.entries(renderSchemas())) fs.writeFileSync(path.join(dir, file), text);
}

interface JsonSchema {
  type?: string;
  enum?: unknown[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  default?: unknown;
}

const FILE_TITLES: Record<FileKind, string> = {
  build: '`build.yaml`: the build account and cluster',
  partition: '`<partition>.yaml`: destinations in one partition (any other file name)',
  shared: '`shared.yaml`: settings for every account',
};

/** The config reference in docs/configuration.md, generated from the same schemas so no field goes undocumented. */
export function renderReference(): string {
  return (Object.keys(SCHEMAS_BY_KIND) as FileKind[])
    .map((kind) => {
      const rows = fieldRows(jsonSchema(kind), '');
      return [`#### ${FILE_TITLES[kind]}`, '', '| field | type | required | default | meaning |', '|---|---|---|---|---|', ...rows, ''].join('\n');
    })
    .join('\n');
}

function fieldRows(schema: JsonSchema, prefix: string): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([key, field]) => {
    const fieldPath = `${prefix}${key}`;
    const required = schema.required?.includes(key) ? 'yes' : 'no';
    const row = `| \`${fieldPath}\` | ${typeOf(field)} | ${required} | ${defaultOf(field)} | ${cell(field.description ?? '')} |`;
    const nested = field.items?.properties ? fieldRows(field.items, `${fieldPath}[].`) : field.properties ? fieldRows(field, `${fieldPath}.`) : [];
    return [row, ...nested];
  });
}

/** The schema's own default, so the reference cannot drift from what the loader applies. */
function defaultOf(field: JsonSchema): string {
  const value = field.default;
  if (value === undefined || (typeof value === 'object' && value !== null && !Array.isArray(value))) return '';
  return cell(`\`${JSON.stringify(value)}\``);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function typeOf(field: JsonSchema): string {
  if (field.enum) return field.enum.map((v) => `\`${v}\``).join(' \\| ');
  if (field.type === 'array') return `list of ${field.items?.type ?? 'values'}`;
  if (field.type === 'object' && !field.properties) return 'map of string';
  return field.type ?? 'any';
}

/** The page that holds the generated config reference between the markers below. */
export const CONFIG_REFERENCE_DOC = path.join(__dirname, '..', '..', 'docs', 'configuration.md');
const REFERENCE_START = '<!-- config-reference:start -->';
const REFERENCE_END = '<!-- config-reference:end -->';

/** Page text with the config reference between its markers replaced by the current one. */
export function withReference(page: string): string {
  const start = page.indexOf(REFERENCE_START);
  const end = page.indexOf(REFERENCE_END);
  if (start < 0 || end < start) throw new Error(`docs/configuration.md has no ${REFERENCE_START} ... ${REFERENCE_END} markers`);
  return `${page.slice(0, start + REFERENCE_START.length)}\n${renderReference()}${page.slice(end)}`;
}
