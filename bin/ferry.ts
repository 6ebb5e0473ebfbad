/** The `ferry` command: dispatches subcommands (today: push). */
import { USAGE as PUSH_USAGE, main as push } from '../lib/push/cli';

const USAGE = `Usage: ferry <command> [options]

Commands:
  push    push an image tarball or OCI layout to registries (ferry push --help)`;

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'push') return push(rest);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n\n${PUSH_USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  process.stderr.write(`ferry: unknown command "${command}"\n${USAGE}\n`);
  return 2;
}

// Exit through the normal path so the temp-file cleanup registered on 'exit' runs.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

run(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => { process.stderr.write(`ferry: ${err instanceof Error ? err.message : String(err)}\n`); process.exitCode = 1; },
);
