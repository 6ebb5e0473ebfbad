/**
 * npm run bench:synth — median wall time of the full `npm run synth`, against a one-bucket CDK
 * app launched the same way (npm, then tsx) in the same run, against a generated config
 * with 10 destination accounts and 20 repositories, and against the large configs of the scale
 * issue (150 x 3, 400 x 12, 1,000 x 30 repositories x destinations over all four partitions,
 * `synthesizer: bootstrapped`), each as a ratio to the example config of the same run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeScaleConfig } from '../test/support/scale-config';
import { median, timeCommand, verdict } from './stats';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** The large configs take minutes each: fewer runs by default (their median is then of these runs). */
const LARGE_RUNS = Number(process.env.BENCH_LARGE_RUNS ?? 1);

/** Repositories x destinations, and the target of the issue: at most this many times the example config. */
const LARGE: readonly { repositories: number; destinations: number; target?: number }[] = [
  { repositories: 150, destinations: 3 },
  { repositories: 400, destinations: 12 },
  { repositories: 1000, destinations: 30, target: 5 },
];

const GENERATED = {
  partitions: {
    aws: ['us-west-2', 'eu-west-1', 'ap-southeast-2', 'ca-central-1'],
    'aws-us-gov': ['us-gov-west-1', 'us-gov-east-1', 'us-gov-west-1'],
    'aws-cn': ['cn-north-1', 'cn-northwest-1', 'cn-north-1'],
  },
  repositories: 20,
};

/** A config of 10 destination accounts (across three partitions) and 20 repositories. */
function writeGeneratedConfig(dir: string): void {
  fs.copyFileSync(path.join(ROOT, 'config', 'build.yaml'), path.join(dir, 'build.yaml'));
  const repos = Array.from({ length: GENERATED.repositories }, (_, i) => `  - name: team-${i}/service-${i}`).join('\n');
  fs.writeFileSync(path.join(dir, 'shared.yaml'), `repositories:\n${repos}\n`);
  let account = 200000000000;
  for (const [partition, regions] of Object.entries(GENERATED.partitions)) {
    const destinations = regions.map((region) => {
      account += 1;
      return `  - name: ${partition}-${account}\n    account: "${account}"\n    region: ${region}\n    synthesizer: cli-credentials`;
    });
    fs.writeFileSync(path.join(dir, `${partition}.yaml`), `partition: ${partition}\ndestinations:\n${destinations.join('\n')}\n`);
  }
}

function main(): void {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-synth-'));
  const generated = path.join(work, 'config');
  fs.mkdirSync(generated);
  writeGeneratedConfig(generated);
  const out = path.join(work, 'out');
  const contenders: Record<string, () => number> = {
    'baseline (one-bucket CDK app)': () => timeCommand('npm', ['exec', '--no', '--', 'tsx', 'bench/one-bucket-app.ts', '--out', out], { cwd: ROOT }),
    'npm run synth (example config)': () => timeCommand('npm', ['run', '--silent', 'synth', '--', '--out', out], { cwd: ROOT }),
    'npm run synth (10 accounts x 20 repositories)': () =>
      timeCommand('npm', ['run', '--silent', 'synth', '--', '--out', out], { cwd: ROOT, env: { ...process.env, FERRY_CONFIG: generated } }),
  };
  const large: Record<string, () => number> = Object.fromEntries(
    LARGE.map(({ repositories, destinations }) => {
      const dir = path.join(work, `config-${repositories}x${destinations}`);
      fs.mkdirSync(dir);
      writeScaleConfig({ repositories, destinations }, dir);
      const name = `npm run synth (${repositories} repositories x ${destinations} destinations)`;
      return [name, () => timeCommand('npm', ['run', '--silent', 'synth', '--', '--out', out], { cwd: ROOT, env: { ...process.env, FERRY_CONFIG: dir } })];
    }),
  );
  const times: Record<string, number[]> = Object.fromEntries([...Object.keys(contenders), ...Object.keys(large)].map((k) => [k, []]));
  try {
    // Interleaved so that a noisy moment on the machine hits every contender alike.
    for (let run = 0; run < RUNS; run++) for (const [name, measure] of Object.entries(contenders)) times[name].push(measure());
    for (let run = 0; run < LARGE_RUNS; run++) for (const [name, measure] of Object.entries(large)) times[name].push(measure());
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const [baseline, example, tenByTwenty] = Object.values(times).map(median);
  console.log(
    `synth benchmark, ${RUNS} runs each (the large configs ${LARGE_RUNS}), median wall seconds; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (const [name, values] of Object.entries(times))
    console.log(`  ${name.padEnd(64)} ${median(values).toFixed(2)} s   (runs: ${values.map((v) => v.toFixed(2)).join(', ')})`);
  console.log(`example / baseline: ${(example / baseline).toFixed(2)}x (target <= 2.00x: ${verdict(example / baseline <= 2)})`);
  console.log(`10x20 / example:    ${(tenByTwenty / example).toFixed(2)}x (target <= 2.00x: ${verdict(tenByTwenty / example <= 2)})`);
  LARGE.forEach(({ repositories, destinations, target }, i) => {
    const ratio = median(Object.values(times)[3 + i]) / example;
    console.log(
      `${repositories}x${destinations} / example: ${ratio.toFixed(2)}x${target ? ` (target <= ${target.toFixed(2)}x: ${verdict(ratio <= target)})` : ''}`,
    );
  });
}

main();
