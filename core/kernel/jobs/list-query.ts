import { WaymarkError, type ErrorDetail } from '../errors';
import { JOB_STATES } from './queue';
import type { JobListOptions, JobState } from './types';

const ALLOWED = new Set(['state', 'limit', 'cursor']);

/**
 * Reads `?state=&limit=&cursor=` of GET /api/v1/jobs (and the CLI's options) into list options.
 * Anything it does not understand is a 400 VALIDATION_FAILED naming the parameter: an unknown
 * parameter or filter value is never silently ignored, so a typo cannot list every job.
 */
export function parseJobListQuery(query: Record<string, unknown>): JobListOptions {
  const details: ErrorDetail[] = [];
  const options: JobListOptions = {};
  for (const [key, raw] of Object.entries(query)) {
    if (!ALLOWED.has(key)) {
      details.push({ path: `/${key}`, code: 'additionalProperties', message: 'is not an allowed query parameter' });
      continue;
    }
    if (typeof raw !== 'string') {
      details.push({ path: `/${key}`, code: 'type', message: 'must be given once, as a string' });
      continue;
    }
    if (key === 'state') {
      if ((JOB_STATES as readonly string[]).includes(raw)) options.state = raw as JobState;
      else details.push({ path: '/state', code: 'enum', message: `must be one of ${JOB_STATES.map((s) => JSON.stringify(s)).join(', ')}` });
    } else if (key === 'limit') {
      const n = /^[0-9]{1,4}$/.test(raw) ? Number(raw) : NaN;
      if (n >= 1 && n <= 200) options.limit = n;
      else details.push({ path: '/limit', code: 'maximum', message: 'must be an integer from 1 to 200' });
    } else if (/^[1-9][0-9]{0,15}$/.test(raw) && Number.isSafeInteger(Number(raw))) {
      options.cursor = raw;
    } else {
      details.push({ path: '/cursor', code: 'pattern', message: 'must be a nextCursor returned by this API' });
    }
  }
  if (details.length > 0) {
    throw new WaymarkError('VALIDATION_FAILED', `Query is invalid: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, 400, details);
  }
  return options;
}
