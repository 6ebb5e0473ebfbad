/** npm run schema: the config JSON Schemas for editors, and the README's config reference. */
import * as fs from 'node:fs';
import { README, withReference, writeSchemas } from '../lib/config/json-schema';

writeSchemas();
fs.writeFileSync(README, withReference(fs.readFileSync(README, 'utf8')));
