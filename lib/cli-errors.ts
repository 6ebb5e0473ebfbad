/**
 * How every ferry entry point fails: the problem on stderr, one line each, exit 1 for config
 * and synth errors. No stack trace: users need the file, field and fix, not our call stack.
 */
import { ConfigError } from './config/problems';

/**
 * An error whose message is already the user's report, one line per problem, each naming what
 * is wrong and where (e.g. the Argo validation's findings): printed as it is.
 */
export class UserFacingError extends Error {}

export function runCli(main: () => void): void {
  try {
    main();
  } catch (error) {
    process.stderr.write(`${describeError(error)}\n`);
    process.exitCode = 1;
  }
}

export function describeError(error: unknown): string {
  if (error instanceof ConfigError || error instanceof UserFacingError) return error.message;
  if (error instanceof Error) return `ferry: ${error.message}`;
  return `ferry: ${String(error)}`;
}
