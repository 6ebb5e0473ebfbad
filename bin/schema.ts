/** Writes the JSON Schemas of the config files, which editors use to check and complete them. */
import { writeSchemas } from '../lib/config/json-schema';

writeSchemas();
