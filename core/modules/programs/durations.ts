/**
 * ISO-8601 durations for course-set minimum times and due dates.
 *
 * Durations are calendar durations (`P1M` is one calendar month, not 30 days), so they can only be
 * turned into milliseconds relative to an instant and a timezone. Everything here is pure: no clock.
 */
import { DateTime, Duration } from 'luxon';
import { WaymarkError } from '../../kernel/errors';

/**
 * The instant durations are compared at (1970-01-01T00:00Z, a January). Comparing calendar
 * durations needs *some* instant; a fixed one keeps comparisons deterministic. At this instant
 * `P1M` equals `P31D`, and is longer than `P30D` and `P4W`.
 */
export const DURATION_REFERENCE_INSTANT = 0;

/** The longest minimum time we accept; longer values are almost certainly typing mistakes. */
export const MAX_DURATION = 'P100Y';

// Luxon's parser is lenient ("P", "PT", "P1DT", "P-1D" and fractional days all parse); minimum
// times must be exact, so the shape is checked first: non-negative integers for calendar units,
// decimals allowed for time units, at least one component, no dangling "T".
const ISO_DURATION =
  /^P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

const MAX_DURATION_MS = DateTime.fromMillis(DURATION_REFERENCE_INSTANT, { zone: 'UTC' }).plus(Duration.fromISO(MAX_DURATION)).toMillis();

/**
 * Parses an ISO-8601 duration such as `P2W`, `P1M` or `PT36H`.
 *
 * Returns null for anything that is not a strictly formed, positive duration of at most
 * {@link MAX_DURATION}: malformed text, lowercase, whitespace, negative or zero durations
 * (`P0D`: "no minimum time" is expressed with null, not zero), and fractional calendar units.
 */
export function parseDuration(iso: string): Duration | null {
  if (typeof iso !== 'string' || iso.length > 64) return null;
  // Programs reuse a handful of durations and compiling compares them often; luxon is not cheap.
  const cached = parseCache.get(iso);
  if (cached !== undefined) return cached;
  const parsed = parseUncached(iso);
  if (parseCache.size >= PARSE_CACHE_LIMIT) parseCache.clear();
  parseCache.set(iso, parsed);
  return parsed;
}

const PARSE_CACHE_LIMIT = 1000;
const parseCache = new Map<string, Duration | null>();

function parseUncached(iso: string): Duration | null {
  if (!ISO_DURATION.test(iso)) return null;
  const duration = Duration.fromISO(iso.replace(/,/g, '.'));
  if (!duration.isValid) return null;
  const values = Object.values(duration.toObject());
  if (values.some((v) => typeof v !== 'number' || !Number.isFinite(v) || v < 0)) return null;
  if (!values.some((v) => v > 0)) return null;
  const end = DateTime.fromMillis(DURATION_REFERENCE_INSTANT, { zone: 'UTC' }).plus(duration);
  if (!end.isValid || end.toMillis() > MAX_DURATION_MS) return null;
  return duration;
}

/** True when {@link parseDuration} accepts the value. */
export function isValidDuration(iso: unknown): iso is string {
  return typeof iso === 'string' && parseDuration(iso) !== null;
}

function parseOrThrow(iso: string): Duration {
  const duration = parseDuration(iso);
  if (!duration) {
    throw new WaymarkError('PROGRAM_DURATION_INVALID', `"${iso}" is not a valid ISO-8601 duration such as P2W or P1M`, 422);
  }
  return duration;
}

/**
 * Adds a duration to an instant with calendar arithmetic in `zone` (an IANA name), so `P1M` from
 * 31 January is the last day of February and `P1D` across a DST change keeps the wall-clock time.
 *
 * @throws WaymarkError `PROGRAM_DURATION_INVALID` (422) for a duration {@link parseDuration} rejects,
 *   `TIMEZONE_INVALID` (422) for an unknown zone.
 */
export function addDuration(epochMs: number, iso: string, zone = 'UTC'): number {
  const duration = parseOrThrow(iso);
  const start = DateTime.fromMillis(epochMs, { zone });
  if (!start.isValid) {
    throw new WaymarkError('TIMEZONE_INVALID', `"${zone}" is not a known timezone`, 422);
  }
  return start.plus(duration).toMillis();
}

/** Length of a valid duration in milliseconds when added at {@link DURATION_REFERENCE_INSTANT}. */
function lengthAtReference(duration: Duration): number {
  return DateTime.fromMillis(DURATION_REFERENCE_INSTANT, { zone: 'UTC' }).plus(duration).toMillis() - DURATION_REFERENCE_INSTANT;
}

/**
 * Orders two durations by their length when added to {@link DURATION_REFERENCE_INSTANT}:
 * negative when `a` is shorter, 0 when equal, positive when longer. Null (no duration) is shortest.
 *
 * @throws WaymarkError `PROGRAM_DURATION_INVALID` for an invalid non-null duration.
 */
export function compareDurations(a: string | null, b: string | null): number {
  const la = a === null ? -1 : lengthAtReference(parseOrThrow(a));
  const lb = b === null ? -1 : lengthAtReference(parseOrThrow(b));
  return Math.sign(la - lb);
}

/**
 * The longer of two durations (compared at {@link DURATION_REFERENCE_INSTANT}); on a tie the first
 * is returned unchanged. Null means "no duration" and loses to any duration.
 */
export function maxDuration(a: string | null, b: string | null): string | null {
  return compareDurations(a, b) >= 0 ? a : b;
}

/**
 * Sums durations unit by unit (`P1M` + `P2W` = `P1M14D`), skipping nulls; null when there is
 * nothing to sum. Unit-wise sums keep calendar meaning: adding the result is adding each part.
 * Weeks are folded into days when mixed with other units, since ISO-8601 does not combine `W`.
 */
export function sumDurations(durations: Iterable<string | null>): string | null {
  let total: Duration | null = null;
  for (const iso of durations) {
    if (iso === null) continue;
    const duration = parseOrThrow(iso);
    total = total === null ? duration : total.plus(duration);
  }
  if (total === null) return null;
  const parts = total.toObject();
  const units = Object.keys(parts).filter((k) => (parts[k as keyof typeof parts] ?? 0) !== 0);
  if (parts.weeks && units.length > 1) {
    total = Duration.fromObject({ ...parts, weeks: 0, days: (parts.days ?? 0) + parts.weeks * 7 });
  }
  return formatDuration(total);
}

/** ISO text of a duration without zero components (luxon keeps them, e.g. `P0W14D`). */
function formatDuration(duration: Duration): string {
  const o = duration.toObject();
  // Decimal time units can pick up float noise when summed (0.1H + 0.2H).
  const n = (v: number): number => Number(v.toFixed(9));
  const date = [o.years ? `${o.years}Y` : '', o.months ? `${o.months}M` : '', o.weeks ? `${o.weeks}W` : '', o.days ? `${o.days}D` : ''].join('');
  const seconds = n((o.seconds ?? 0) + (o.milliseconds ?? 0) / 1000);
  const time = [o.hours ? `${n(o.hours)}H` : '', o.minutes ? `${n(o.minutes)}M` : '', seconds ? `${seconds}S` : ''].join('');
  if (!date && !time) return 'PT0S';
  return `P${date}${time ? `T${time}` : ''}`;
}

/**
 * The canonical text of a valid duration (decimal commas become points), or null when invalid.
 * Store this rather than the raw input so equal durations compare equal as text.
 */
export function normalizeDuration(iso: string): string | null {
  const duration = parseDuration(iso);
  return duration ? formatDuration(duration) : null;
}
