/** The `ferry` command: dispatches to its subcommands. */

import { endProcess } from '../lib/cli/exit';
import { EXIT, FERRY_VERSION } from '../lib/contract';

/** What every command module exports. */
interface CommandModule {
  readonly main: (argv: string[]) => Promise<number>;
  readonly USAGE: string;
}

/**
 * Each command's module is loaded only when that command runs: a pipeline step starts one
 * `ferry copy` per destination and image, and loading every command's modules (the doctor's
 * among them) first added tens of milliseconds to each start.
 */
const COMMANDS: Record<string, { load: () => CommandModule; summary: string }> = {
  push: { load: () => require('../lib/cli/push') as typeof import('../lib/cli/push'), summary: 'push an image tarball or OCI layout to registries' },
  copy: {
    load: () => require('../lib/cli/copy') as typeof import('../lib/cli/copy'),
    summary: 'copy an image (and its signatures) from one registry to others',
  },
  sync: {
    load: () => require('../lib/cli/sync') as typeof import('../lib/cli/sync'),
    summary: 'bring destination repositories up to every tag of a source repository',
  },
  status: {
    load: () => require('../lib/cli/status') as typeof import('../lib/cli/status'),
    summary: 'show which tags each registry holds, and at which digest',
  },
  doctor: {
    load: () => require('../lib/cli/doctor') as typeof import('../lib/cli/doctor'),
    summary: 'check deployed accounts and the cluster against cdk.out/ and dist/, read only',
  },
};

const USAGE = `Usage: ferry <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(6)}  ${c.summary} (ferry ${name} --help)`)
  .join('\n')}

Also:
  ferry --version, ferry version  print ferry's version and Node's, exit 0
  ferry help <command>            a command's usage, as ferry <command> --help
  ferry doctor path --help        the in-cluster doctor: one destination's credential path

Exit codes: 0 done; 1 failed in a way a later run may fix; 2 nothing a retry can fix
(bad input or usage, an unknown command included).`;

/** `ferry <version> (node <version>)`: the Node version too, since the pusher image and a workstation differ. */
const VERSION_LINE = `ferry ${FERRY_VERSION} (node ${process.version})`;

function unknown(command: string): number {
  process.stderr.write(`ferry: unknown command "${command}"\n${USAGE}\n`);
  return EXIT.badInput;
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // The in-cluster doctor (ferry-doctor WorkflowTemplate); `ferry doctor` itself is the workstation doctor's.
  if (command === 'doctor' && rest[0] === 'path') return (require('../lib/cli/doctor-path') as typeof import('../lib/cli/doctor-path')).main(rest.slice(1));
  const known = command === undefined ? undefined : COMMANDS[command];
  if (known) return known.load().main(rest);
  if (command === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT.badInput;
  }
  if (command === 'version' || command === '--version' || command === '-V') {
    process.stdout.write(`${VERSION_LINE}\n`);
    return EXIT.ok;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    const topic = rest[0];
    if (topic === undefined) {
      process.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    // `ferry help <typo>` is as wrong as `ferry <typo>`: the same line and exit code.
    if (!COMMANDS[topic]) return unknown(topic);
    process.stdout.write(`${COMMANDS[topic].load().USAGE}\n`);
    return EXIT.ok;
  }
  return unknown(command);
}

// A signal stops the work at once; process.exit still runs the temp-file cleanup registered on 'exit'.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

// The process ends by itself (lib/cli/exit.ts: process.exit can hang on Node 24), by force only
// when work abandoned at the --timeout deadline keeps it alive.
run(process.argv.slice(2)).then(endProcess, (err: unknown) => {
  process.stderr.write(`ferry: ${err instanceof Error ? err.message : String(err)}\n`);
  endProcess(EXIT.destinationFailed);
});
