import { DateTime, IANAZone } from 'luxon';
import { invalid } from './errors';

/** `2026-12-31`: a calendar day. */
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
/** `2026-12-31T17:30`, with optional seconds, fraction and offset (`Z`, `+02:00`). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$/;

export interface DateInputOptions {
  /** The field named in the 422 (`dueDate`, `--now`). */
  field: string;
  /** The site's time zone (IANA), which gives a date or an offset-less time its instant. */
  zone: string;
}

/**
 * Parses a date or date-time typed by an operator or sent to the API, strictly: `2026-02-30`, `%00`,
 * week dates and bare years are refused (422 DATE_INVALID naming the field) instead of being rolled
 * over or guessed. A date alone means the end of that day, and a time without an offset is read, in
 * the site's time zone, never the server's. Returns epoch milliseconds.
 */
export function parseDateInput(value: string, { field, zone }: DateInputOptions): number {
  const fail = (why: string) => {
    const message = `${field} ${why}`;
    return invalid('DATE_INVALID', message, [{ path: field, code: 'DATE_INVALID', message }]);
  };
  const text = value.trim();
  if (DATE_ONLY.test(text)) {
    const day = DateTime.fromISO(text, { zone });
    if (!day.isValid) throw fail(`is not a calendar date: "${text}"`);
    return day.endOf('day').toMillis();
  }
  if (!DATE_TIME.test(text)) throw fail('must be a date (2026-12-31) or a date-time (2026-12-31T17:00:00+01:00)');
  const moment = DateTime.fromISO(text, { zone, setZone: false });
  if (!moment.isValid) throw fail(`is not a valid date-time: "${text}"`);
  return moment.toMillis();
}

/** Whether `zone` is an IANA time zone luxon knows (`Europe/Paris`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}
