/**
 * Issue 16 item 5: a fips: true destination reached by outbound federation gets its token from the
 * FIPS STS endpoint of the build region wherever AWS runs one, even when the build target is not
 * FIPS; where AWS runs none, synth says so once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fipsMintNotices, mintsAtFipsSts } from '../../lib/config/fips-mint';
import { pushTaskName } from '../../lib/config/naming';
import { synthK8s } from '../../lib/k8s/app';
import { WORKFLOW_TEMPLATE } from '../../lib/k8s/constants';
import { EXAMPLE_CONFIG, tempDir } from '../support/config-fixture';
import { configWith, type Json, manifests } from './helpers';

/** The example's GovCloud file plus a FIPS destination there that is reached by outbound federation. */
const GOV_WITH_FIPS_OUTBOUND = `${fs.readFileSync(path.join(EXAMPLE_CONFIG, 'aws-us-gov.yaml'), 'utf8')}
  - name: gov-fips
    account: "444444444444"
    region: us-gov-west-1
    fips: true
    synthesizer: cli-credentials
    trust: outbound-federation
`;

function buildIn(region: string): string {
  const build = fs.readFileSync(path.join(EXAMPLE_CONFIG, 'build.yaml'), 'utf8');
  if (!/^region: us-east-1$/m.test(build)) throw new Error('build.yaml has no region line to replace');
  return build.replace(/^region: us-east-1$/m, `region: ${region}`);
}

function configBuiltIn(region: string) {
  return configWith({ 'build.yaml': buildIn(region), 'aws-us-gov.yaml': GOV_WITH_FIPS_OUTBOUND });
}

/** Every ferry step (push and sync) that delivers to `name`, with its args. */
function stepArgsFor(out: ReturnType<typeof manifests>, name: string): string[][] {
  const push = out.template(WORKFLOW_TEMPLATE.push, pushTaskName({ name } as never)).container.args as string[];
  const sync = (out.workflowTemplate(WORKFLOW_TEMPLATE.sync).spec.templates as Json[])
    .filter((t) => (t.container?.args ?? []).some((a: string) => a.includes('444444444444.dkr.ecr-fips.us-gov-west-1')))
    .map((t) => t.container.args as string[]);
  expect(sync.length).toBeGreaterThan(0);
  return [push, ...sync];
}

describe('FIPS destination, outbound federation, build target not FIPS', () => {
  test('build in us-east-1 (a FIPS STS region): every step of the FIPS destination mints with --token-fips, the others do not', () => {
    const config = configBuiltIn('us-east-1');
    expect(config.build.fips).toBe(false);
    const out = manifests(config);
    for (const args of stepArgsFor(out, 'gov-fips')) {
      expect(args).toContain('--token-fips');
      expect(args[args.indexOf('--token-region') + 1]).toBe('us-east-1');
    }
    expect(out.template(WORKFLOW_TEMPLATE.push, 'push-china').container.args).not.toContain('--token-fips');
    expect(fipsMintNotices(config)).toEqual([]);
  });

  test('build in eu-west-1 (no FIPS STS): no --token-fips (ferry would refuse it), and one notice naming the destination and region', () => {
    const config = configBuiltIn('eu-west-1');
    const gov = config.destinations.find((d) => d.name === 'gov-fips')!;
    expect(mintsAtFipsSts(config, gov)).toBe(false);
    for (const args of stepArgsFor(manifests(config), 'gov-fips')) expect(args).not.toContain('--token-fips');
    const lines: string[] = [];
    synthK8s(config, { outdir: tempDir('ferry-fips-mint-'), notice: (line) => lines.push(line) });
    expect(lines).toEqual([
      "ferry: gov-fips (fips: true, trust: outbound-federation): the token, and the source role's own STS call that signs for it, go to sts.eu-west-1.amazonaws.com, not to a FIPS endpoint: AWS runs no FIPS STS endpoint in the build region eu-west-1 (only in us-east-1, us-east-2, us-west-1, us-west-2 and GovCloud); the destination's own STS and ECR calls stay on FIPS endpoints",
    ]);
  });

  test('a FIPS destination on cluster-oidc mints nothing, so there is nothing to say', () => {
    const config = configWith({
      'build.yaml': buildIn('eu-west-1'),
      'aws-us-gov.yaml': GOV_WITH_FIPS_OUTBOUND.replace(/\n {4}trust: outbound-federation\n$/, '\n'),
    });
    expect(config.destinations.find((d) => d.name === 'gov-fips')!.trust).toBe('cluster-oidc');
    expect(fipsMintNotices(config)).toEqual([]);
  });
});
