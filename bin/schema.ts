/**
 * npm run schema: the config JSON Schemas for editors, and the config reference in
 * docs/configuration.md. The config in FERRY_CONFIG (else ./config) is checked first, like every
 * other entry point: a bad config is reported one line per problem and nothing is written.
 */
import * as fs from 'node:fs';
import { runCli } from '../lib/cli-errors';
import { CONFIG_REFERENCE_DOC, withReference, writeSchemas } from '../lib/config/json-schema';
import { configDir, loadConfig } from '../lib/config/load';

runCli(() => {
  loadConfig(configDir());
  const reference = withReference(fs.readFileSync(CONFIG_REFERENCE_DOC, 'utf8'));
  writeSchemas();
  fs.writeFileSync(CONFIG_REFERENCE_DOC, reference);
});
