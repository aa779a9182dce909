// Every failure the CLI reports, with the exit code a script can act on.

/** Exit codes: documented in `jit --help`, relied on by scripts and `credential_process`. */
export const exitCodes = {
  ok: 0,
  /** The API refused, was unreachable, or something else went wrong. */
  failed: 1,
  /** No usable login: run `jit login`. */
  login: 2,
  /** The answer is no: the grant ended without becoming active, no active grant, a broken audit chain. */
  negative: 3,
  /** Bad command line (BSD sysexits EX_USAGE). */
  usage: 64,
} as const;

export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = exitCodes.failed,
  ) {
    super(message);
  }
}

/** The command line itself is wrong; `usage` is printed after the message. */
export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message, exitCodes.usage);
  }
}

/** The API or the issuer could not be reached (refused, reset, timed out): a cached answer may stand in. */
export class Unreachable extends CliError {
  override name = 'Unreachable';
}

export const notLoggedIn = () => new CliError('not logged in: run `jit login`', exitCodes.login);
export const sessionExpired = () => new CliError('session expired: run `jit login`', exitCodes.login);

/** A refusal from the API: `{error:{code,message}}` with its HTTP status. */
export class ApiRefusal extends CliError {
  override name = 'ApiRefusal';
  constructor(
    readonly code: string,
    readonly apiMessage: string,
    readonly status: number,
  ) {
    super(`${code}: ${apiMessage}`, exitCodes.failed);
  }
}
