/** Loads a config and reads the emitted objects the way Argo and kubectl would see them. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../lib/config/load';
import type { FerryConfig } from '../../lib/config/model';
import { k8sManifests } from '../../lib/k8s/app';
import type { KubeObject } from '../../lib/k8s/lint';

export const EXAMPLE_CONFIG_DIR = path.resolve(__dirname, '..', '..', 'config');

export function exampleConfig(): FerryConfig {
  return loadConfig(EXAMPLE_CONFIG_DIR);
}

/** A copy of the example config with extra or replaced files, in a temp dir. */
export function configWith(files: Record<string, string>): FerryConfig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-k8s-config-'));
  for (const name of fs.readdirSync(EXAMPLE_CONFIG_DIR).filter((n) => n.endsWith('.yaml'))) fs.copyFileSync(path.join(EXAMPLE_CONFIG_DIR, name), path.join(dir, name));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return loadConfig(dir);
}

// Loose JSON shapes for assertions: the tests read what was emitted, not the typed props.
/* eslint-disable @typescript-eslint/no-explicit-any */
export type Json = any;

export interface Manifests {
  readonly objects: KubeObject[];
  workflowTemplate(name: string): Json;
  template(workflowTemplate: string, template: string): Json;
  /** Every template of every WorkflowTemplate that runs a pod. */
  podTemplates(): { wt: string; template: Json }[];
  ofKind(kind: string): Json[];
}

export function manifests(config: FerryConfig): Manifests {
  const objects = JSON.parse(JSON.stringify(k8sManifests(config))) as KubeObject[];
  const ofKind = (kind: string) => objects.filter((o) => o.kind === kind) as Json[];
  const workflowTemplate = (name: string) => {
    const found = ofKind('WorkflowTemplate').find((o) => o.metadata.name === name);
    if (!found) throw new Error(`no WorkflowTemplate ${name}`);
    return found;
  };
  return {
    objects,
    ofKind,
    workflowTemplate,
    template: (wt, name) => {
      const found = workflowTemplate(wt).spec.templates.find((t: Json) => t.name === name);
      if (!found) throw new Error(`no template ${name} in ${wt}`);
      return found;
    },
    podTemplates: () => ofKind('WorkflowTemplate').flatMap((wt) => wt.spec.templates.filter((t: Json) => t.container || t.script).map((template: Json) => ({ wt: wt.metadata.name, template }))),
  };
}

export function envOf(template: Json): Record<string, Json> {
  return Object.fromEntries((template.container.env ?? []).map((e: Json) => [e.name, e.value ?? e.valueFrom]));
}

export function argument(task: Json, name: string): string | undefined {
  return task.arguments?.parameters?.find((p: Json) => p.name === name)?.value;
}
