import { expect } from 'chai';
import { parseDateInput } from '../../core/kernel/dates';
import { loadConfig } from '../../core/kernel/config';
import { WaymarkError } from '../../core/kernel/errors';

function rejection(value: string): WaymarkError {
  try {
    parseDateInput(value, { field: 'dueDate', zone: 'UTC' });
  } catch (error) {
    return error as WaymarkError;
  }
  throw new Error(`${value} was accepted`);
}

describe('strict date input', function () {
  it('refuses impossible and malformed dates with 422 naming the field', function () {
    for (const value of ['2026-02-30', '2026-13-01', '%00', '', '2026', '2026-W01-1', '2026-001', 'tomorrow', '2026-12-31T25:00', '2026-12-31 10:00', '1e12']) {
      const error = rejection(value);
      expect(error.status, value).to.equal(422);
      expect(error.code, value).to.equal('DATE_INVALID');
      expect(error.details[0], value).to.include({ path: 'dueDate', code: 'DATE_INVALID' });
    }
  });

  it('reads a date alone as the end of that day in the site time zone', function () {
    expect(new Date(parseDateInput('2026-12-31', { field: 'd', zone: 'UTC' })).toISOString()).to.equal('2026-12-31T23:59:59.999Z');
    expect(new Date(parseDateInput('2026-12-31', { field: 'd', zone: 'Europe/Paris' })).toISOString()).to.equal('2026-12-31T22:59:59.999Z');
    expect(new Date(parseDateInput('2024-02-29', { field: 'd', zone: 'UTC' })).toISOString()).to.equal('2024-02-29T23:59:59.999Z');
  });

  it('reads a time without an offset in the site time zone, and one with an offset as given', function () {
    expect(new Date(parseDateInput('2026-07-01T09:30', { field: 'd', zone: 'America/New_York' })).toISOString()).to.equal('2026-07-01T13:30:00.000Z');
    expect(new Date(parseDateInput('2026-07-01T09:30:00+02:00', { field: 'd', zone: 'America/New_York' })).toISOString()).to.equal('2026-07-01T07:30:00.000Z');
    expect(new Date(parseDateInput('2026-07-01T09:30:00.123Z', { field: 'd', zone: 'Asia/Tokyo' })).toISOString()).to.equal('2026-07-01T09:30:00.123Z');
  });

  it('takes the site time zone from WAYMARK_TIMEZONE and refuses an unknown one', function () {
    expect(loadConfig({ WAYMARK_TIMEZONE: 'Europe/Paris' }).timezone).to.equal('Europe/Paris');
    expect(loadConfig({}).timezone).to.equal('UTC');
    expect(() => loadConfig({ WAYMARK_TIMEZONE: 'Mars/Olympus' })).to.throw(/WAYMARK_TIMEZONE "Mars\/Olympus" is not an IANA time zone/);
  });
});
