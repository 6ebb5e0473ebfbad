/**
 * How every ferry entry point fails: the problem on stderr, one line each. No stack trace:
 * users need the file, field and fix, not our call stack. A bad config or a validation
 * finding exits 2 like every error no retry can fix (the exit codes ferry push uses too);
 * anything unexpected exits 1.
 */
import { ConfigError } from './config/problems';
import { EXIT } from './contract';

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
    process.exitCode = isUserError(error) ? EXIT.badInput : EXIT.destinationFailed;
  }
}

function isUserError(error: unknown): error is ConfigError | UserFacingError {
  return error instanceof ConfigError || error instanceof UserFacingError;
}

export function describeError(error: unknown): string {
  if (isUserError(error)) return error.message;
  if (error instanceof Error) return `ferry: ${error.message}`;
  return `ferry: ${String(error)}`;
}
