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
