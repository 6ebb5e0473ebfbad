import * as fs from 'node:fs';
import * as path from 'node:path';

/** Fails loudly when a tool the tests depend on is missing: CI installs it. */
export function requireTool(tool: string, debianPackage: string): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, tool);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${tool} is not installed; the push tests need the real one: apt-get install -y ${debianPackage}`);
}
