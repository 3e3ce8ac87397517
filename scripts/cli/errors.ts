import { WaymarkError } from '../../core/kernel/errors';

/**
 * What the CLI prints for an error: a WaymarkError (an operator's problem: a busy port, an
 * unreachable database, a bad argument) as `error CODE: message` plus its details, without a stack;
 * anything else is a bug and keeps its stack.
 */
export function describeCliError(error: unknown): string[] {
  if (error instanceof WaymarkError)
    return [`error ${error.code}: ${error.message}`, ...error.details.map((d) => `  - ${d.path ? `${d.path}: ` : ''}${d.message}`)];
  return [error instanceof Error ? (error.stack ?? error.message) : String(error)];
}
