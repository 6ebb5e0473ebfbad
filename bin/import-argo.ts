/**
 * Regenerates what ferry derives from the vendored Argo CRDs, offline: the types
 * imports/argoproj.io.ts (WorkflowTemplate) and imports/cronworkflow-argoproj.io.ts
 * (CronWorkflow), and per Argo line the validation code synth checks the emitted objects with
 * (imports/argo/<version>/ferry-schema.js). Run with `npm run import` after replacing the CRDs
 * under imports/argo/ (see SOURCE.md there).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ARGO_CRDS } from '../lib/k8s/validate/schema';
import { validatorCode } from '../lib/k8s/validate/schema-gen';

const root = path.resolve(__dirname, '..');
const newest = ARGO_CRDS[0];
/** `cdk8s import` names its output `<prefix>-<group>.ts`, or `<group>.ts` without a prefix. */
const IMPORTS = [
  { prefix: undefined, file: newest.files.WorkflowTemplate, output: 'argoproj.io.ts' },
  { prefix: 'cronworkflow', file: newest.files.CronWorkflow, output: 'cronworkflow-argoproj.io.ts' },
];

for (const crd of IMPORTS) importCrd(crd.prefix, crd.file, crd.output);
for (const crd of ARGO_CRDS) {
  // Written whole or not at all, as the types are.
  fs.writeFileSync(`${crd.validatorFile}.tmp`, validatorCode(crd));
  fs.renameSync(`${crd.validatorFile}.tmp`, crd.validatorFile);
  console.log(`wrote ${path.relative(root, crd.validatorFile)}`);
}

function importCrd(prefix: string | undefined, file: string, output: string): void {
  const target = path.join(root, 'imports', output);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-import-'));
  try {
    // --no-save leaves cdk8s.yaml alone; --no-check-upgrade keeps the run offline.
    const source = prefix ? `${prefix}:=${file}` : file;
    const args = [cdk8sCli(), 'import', '--language', 'typescript', '--no-save', '--no-check-upgrade', '--output', scratch, source];
    const result = spawnSync(process.execPath, args, { cwd: scratch, stdio: 'inherit' });
    const generated = path.join(scratch, output);
    if (result.status !== 0 || !fs.existsSync(generated)) {
      console.error(
        `cdk8s import of ${path.relative(root, file)} failed (exit ${result.status ?? result.signal}); ${path.relative(root, target)} is unchanged`,
      );
      process.exit(1);
    }
    // Written whole or not at all: copy next to the target, then rename over it.
    fs.copyFileSync(generated, `${target}.tmp`);
    fs.renameSync(`${target}.tmp`, target);
    console.log(`wrote ${path.relative(root, target)} from ${path.relative(root, file)}`);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The CLI of the locally installed cdk8s-cli (its package exports hide bin/, so go through package.json). */
function cdk8sCli(): string {
  const manifest = require.resolve('cdk8s-cli/package.json');
  const bin = (require(manifest) as { bin: Record<string, string> }).bin.cdk8s;
  return path.join(path.dirname(manifest), bin);
}
