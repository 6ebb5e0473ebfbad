/** The `ferry` command: dispatches to its subcommands. */

import { USAGE as COPY_USAGE, main as copy } from '../lib/cli/copy';
import { USAGE as DOCTOR_USAGE, main as doctor } from '../lib/cli/doctor';
import { USAGE as PUSH_USAGE, main as push } from '../lib/cli/push';
import { USAGE as SYNC_USAGE, main as sync } from '../lib/cli/sync';
import { EXIT } from '../lib/contract';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; usage: string; summary: string }> = {
  push: { run: push, usage: PUSH_USAGE, summary: 'push an image tarball or OCI layout to registries' },
  copy: { run: copy, usage: COPY_USAGE, summary: 'copy an image (and its signatures) from one registry to others' },
  sync: { run: sync, usage: SYNC_USAGE, summary: 'bring destination repositories up to every tag of a source repository' },
  doctor: { run: doctor, usage: DOCTOR_USAGE, summary: 'check deployed accounts and the cluster against cdk.out/ and dist/, read only' },
};

const USAGE = `Usage: ferry <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(6)}  ${c.summary} (ferry ${name} --help)`)
  .join('\n')}`;

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const known = command === undefined ? undefined : COMMANDS[command];
  if (known) return known.run(rest);
  if (command === 'help' && rest[0] && COMMANDS[rest[0]]) {
    process.stdout.write(`${COMMANDS[rest[0]].usage}\n`);
    return EXIT.ok;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`);
    return command === undefined ? EXIT.badInput : EXIT.ok;
  }
  process.stderr.write(`ferry: unknown command "${command}"\n${USAGE}\n`);
  return EXIT.badInput;
}

// Exit through the normal path so the temp-file cleanup registered on 'exit' runs.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

// Exit explicitly: work abandoned at the --timeout deadline must not keep the process alive.
run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ferry: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT.destinationFailed);
  },
);
