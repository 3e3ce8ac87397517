import { CronExpressionParser } from 'cron-parser';
import { WaymarkError } from '../errors';

/**
 * Delay before retry number `attempt` (1 = the retry after the first failure):
 * backoffMs * 2^(attempt-1), scaled by a random factor in [0.8, 1.2) so that a burst of jobs failing
 * together (a dependency down) does not retry in lock-step. Capped at one day.
 */
export function retryDelayMs(backoffMs: number, attempt: number, random: () => number = Math.random): number {
  const base = backoffMs * 2 ** Math.max(0, attempt - 1);
  return Math.min(Math.round(base * (0.8 + 0.4 * random())), 86_400_000);
}

/** Throws SCHEDULE_CRON_INVALID unless `cron` is a valid five-field expression. */
export function assertCron(name: string, cron: string): void {
  const fields = typeof cron === 'string' ? cron.trim().split(/\s+/) : [];
  if (fields.length !== 5) {
    throw new WaymarkError('SCHEDULE_CRON_INVALID', `Schedule "${name}": cron "${String(cron)}" must have five fields (minute hour day month weekday)`, 422);
  }
  try {
    CronExpressionParser.parse(cron, { tz: 'UTC' });
  } catch (error) {
    throw new WaymarkError('SCHEDULE_CRON_INVALID', `Schedule "${name}": cron "${cron}" is invalid: ${(error as Error).message}`, 422);
  }
}

/** The latest tick of `cron` at or before `nowMs` (epoch ms, UTC), or null when it never ticked. */
export function latestTick(cron: string, nowMs: number): number | null {
  // prev() is strictly before currentDate; +1 ms makes a tick exactly at `now` count as due.
  const expression = CronExpressionParser.parse(cron, { currentDate: new Date(nowMs + 1), tz: 'UTC' });
  if (!expression.hasPrev()) return null;
  return expression.prev().getTime();
}

/** The first tick of `cron` strictly after `nowMs`. */
export function nextTick(cron: string, nowMs: number): number | null {
  const expression = CronExpressionParser.parse(cron, { currentDate: new Date(nowMs), tz: 'UTC' });
  if (!expression.hasNext()) return null;
  return expression.next().getTime();
}
