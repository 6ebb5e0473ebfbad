/** npm run schema: the config JSON Schemas for editors, and the config reference in docs/configuration.md. */
import * as fs from 'node:fs';
import { CONFIG_REFERENCE_DOC, withReference, writeSchemas } from '../lib/config/json-schema';

writeSchemas();
fs.writeFileSync(CONFIG_REFERENCE_DOC, withReference(fs.readFileSync(CONFIG_REFERENCE_DOC, 'utf8')));
