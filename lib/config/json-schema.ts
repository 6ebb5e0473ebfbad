/**
 * JSON Schemas for editors (yaml-language-server), generated from the zod schemas so the
 * editor and `npm run synth` can never disagree. Committed; a test fails when they are stale.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { buildFileSchema, partitionFileSchema, sharedFileSchema } from './schema';

export const SCHEMA_DIR = path.join(__dirname, '..', '..', 'config', 'schema');

export function renderSchemas(): Record<string, string> {
  const schemas = { build: buildFileSchema, partition: partitionFileSchema, shared: sharedFileSchema };
  return Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => [`${name}.schema.json`, `${JSON.stringify(z.toJSONSchema(schema, { io: 'input' }), null, 2)}\n`]),
  );
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
}

const FILE_TITLES: Record<string, string> = {
  build: '`build.yaml`: the build account and cluster',
  partition: '`<partition>.yaml`: destinations in one partition (any other file name)',
  shared: '`shared.yaml`: settings for every account',
};

/** The config reference in docs/configuration.md, generated from the same schemas so no field goes undocumented. */
export function renderReference(): string {
  const schemas = { build: buildFileSchema, partition: partitionFileSchema, shared: sharedFileSchema };
  return Object.entries(schemas)
    .map(([name, schema]) => {
      const rows = fieldRows(z.toJSONSchema(schema, { io: 'input' }) as JsonSchema, '');
      return [`#### ${FILE_TITLES[name]}`, '', '| field | type | required | meaning |', '|---|---|---|---|', ...rows, ''].join('\n');
    })
    .join('\n');
}

function fieldRows(schema: JsonSchema, prefix: string): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([key, field]) => {
    const fieldPath = `${prefix}${key}`;
    const required = schema.required?.includes(key) ? 'yes' : 'no';
    const row = `| \`${fieldPath}\` | ${typeOf(field)} | ${required} | ${(field.description ?? '').replace(/\|/g, '\\|')} |`;
    const nested = field.items?.properties ? fieldRows(field.items, `${fieldPath}[].`) : field.properties ? fieldRows(field, `${fieldPath}.`) : [];
    return [row, ...nested];
  });
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
