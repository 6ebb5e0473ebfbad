/** npm run synth [-- --out <dir>]: see lib/synth.ts. */
import { parseArgs } from 'node:util';
import { runCli } from '../lib/cli-errors';
import { configDir } from '../lib/config/load';
import { synthesize } from '../lib/synth';

runCli(() => {
  const { values } = parseArgs({ options: { out: { type: 'string', default: '.' } } });
  const { config, stacks } = synthesize({ configDir: configDir(), outRoot: values.out! });
  process.stderr.write(
    `ferry: synthesized ${stacks.length} stacks into ${values.out}/cdk.out and the Argo pipeline into ${values.out}/dist from ${config.dir}\n`,
  );
});
