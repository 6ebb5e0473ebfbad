/** Loads a config and reads the emitted objects the way Argo and kubectl would see them. */
import { loadConfig } from '../../lib/config/load';
import type { FerryConfig } from '../../lib/config/model';
import { k8sManifests } from '../../lib/k8s/app';
import type { KubeObject } from '../../lib/k8s/validate';
import { copyExampleConfig, EXAMPLE_CONFIG, writeConfig } from '../support/config-fixture';

export function exampleConfig(): FerryConfig {
  return loadConfig(EXAMPLE_CONFIG);
}

/** A copy of the example config with extra or replaced files, in a temp dir. */
export function configWith(files: Record<string, string>): FerryConfig {
  const dir = copyExampleConfig();
  for (const [name, text] of Object.entries(files)) writeConfig(dir, name, text);
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
    podTemplates: () =>
      ofKind('WorkflowTemplate').flatMap((wt) =>
        wt.spec.templates.filter((t: Json) => t.container || t.script).map((template: Json) => ({ wt: wt.metadata.name, template })),
      ),
  };
}

export function envOf(template: Json): Record<string, Json> {
  return Object.fromEntries((template.container.env ?? []).map((e: Json) => [e.name, e.value ?? e.valueFrom]));
}

export function argument(task: Json, name: string): string | undefined {
  return task.arguments?.parameters?.find((p: Json) => p.name === name)?.value;
}
