/**
 * Synth runs the Argo validation and fails on a finding, as it fails on a cdk-nag finding: one
 * line per finding, and nothing written. The finding is made by hiding a user-provided Secret
 * from the check (the emitted notify template still refers to it).
 */
import * as fs from 'node:fs';
import { describeError } from '../../lib/cli-errors';
import { ArgoValidationError } from '../../lib/k8s/validate';
import { synthesize } from '../../lib/synth';
import { copyExampleConfig, tempDir } from '../support/config-fixture';

jest.mock('../../lib/k8s/validate/config', () => {
  const actual = jest.requireActual('../../lib/k8s/validate/config');
  return { ...actual, validateOptionsFor: (config: unknown) => ({ ...actual.validateOptionsFor(config), userProvided: [] }) };
});

test('an Argo finding fails npm run synth with one cdk-nag-like line per finding, and writes nothing', () => {
  const out = tempDir();
  let error: unknown;
  try {
    synthesize({ configDir: copyExampleConfig(), outRoot: out });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ArgoValidationError);
  const lines = describeError(error).split('\n');
  expect(lines.length).toBe((error as ArgoValidationError).findings.length);
  expect(lines[0]).toMatch(
    /^\[Error at WorkflowTemplate\/ferry-notify spec\.templates\[\d\]\.container\.env\[\d+\]\.valueFrom\.secretKeyRef\] Argo-secret: refers to Secret "ferry-slack-webhook"/,
  );
  expect(fs.readdirSync(out)).toEqual([]);
});
