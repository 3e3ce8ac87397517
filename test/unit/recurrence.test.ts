/**
 * The calendar rules of recurring programs (core/modules/programs/recurrence.ts): where periods
 * begin and end, what they are called, and what the copies are named.
 */
import { expect } from 'chai';
import { Duration } from 'luxon';
import { checkRecurrence, checkRecurringStructure, copyNames, periodAround, periodLabel } from '../../core/modules/programs/recurrence';

const at = (text: string): number => Date.parse(text);
const iso = (ms: number): string => new Date(ms).toISOString();

describe('recurring program periods', () => {
  it('counts periods from the anchor with calendar arithmetic: yearly on 1 January, monthly from the 31st without drift', () => {
    const year = Duration.fromISO('P1Y');
    const around = periodAround(at('2026-01-01T00:00:00Z'), year, at('2028-06-15T00:00:00Z'), 'UTC');
    expect([iso(around.start), iso(around.end)]).to.deep.equal(['2028-01-01T00:00:00.000Z', '2029-01-01T00:00:00.000Z']);
    const boundary = periodAround(at('2026-01-01T00:00:00Z'), year, at('2027-01-01T00:00:00Z'), 'UTC');
    expect(iso(boundary.start), 'a boundary belongs to the period it starts').to.equal('2027-01-01T00:00:00.000Z');

    const month = Duration.fromISO('P1M');
    const may = periodAround(at('2026-01-31T00:00:00Z'), month, at('2026-05-31T12:00:00Z'), 'UTC');
    expect([iso(may.start), iso(may.end)]).to.deep.equal(['2026-05-31T00:00:00.000Z', '2026-06-30T00:00:00.000Z']);

    const before = periodAround(at('2027-01-01T00:00:00Z'), year, at('2026-03-01T00:00:00Z'), 'UTC');
    expect(iso(before.start), 'before the anchor: the first period').to.equal('2027-01-01T00:00:00.000Z');
  });

  it('keeps local midnight across daylight saving time in the site zone', () => {
    const around = periodAround(at('2026-01-01T00:00:00+01:00'), Duration.fromISO('P6M'), at('2026-08-01T00:00:00Z'), 'Europe/Paris');
    expect(iso(around.start)).to.equal('2026-06-30T22:00:00.000Z');
    expect(periodLabel(around.start, Duration.fromISO('P6M'), 'Europe/Paris')).to.equal('2026-07');
  });

  it('labels a period as precisely as its length needs', () => {
    expect(periodLabel(at('2027-01-01T00:00:00Z'), Duration.fromISO('P1Y'), 'UTC')).to.equal('2027');
    expect(periodLabel(at('2027-09-01T00:00:00Z'), Duration.fromISO('P1Y'), 'UTC')).to.equal('2027-09');
    expect(periodLabel(at('2027-03-01T00:00:00Z'), Duration.fromISO('P3M'), 'UTC')).to.equal('2027-03');
    expect(periodLabel(at('2027-03-15T00:00:00Z'), Duration.fromISO('P2W'), 'UTC')).to.equal('2027-03-15');
    expect(periodLabel(at('2027-03-15T09:30:00Z'), Duration.fromISO('PT12H'), 'UTC')).to.equal('2027-03-15 09:30');
  });

  it("names a copy with its period in place of the previous one's", () => {
    expect(copyNames({ shortname: 'fire', fullname: 'Fire safety' }, '2026', '2027')).to.deep.equal({ shortname: 'fire-2027', fullname: 'Fire safety 2027' });
    expect(copyNames({ shortname: 'fire-2027', fullname: 'Fire safety 2027' }, '2027', '2028')).to.deep.equal({
      shortname: 'fire-2028',
      fullname: 'Fire safety 2028',
    });
    expect(copyNames({ shortname: 'drill', fullname: 'Drill' }, '2027-03-15 09:00', '2027-03-15 21:00').shortname).to.equal('drill-2027-03-15-2100');
    const long = copyNames({ shortname: 's'.repeat(100), fullname: 'F'.repeat(255) }, '2026', '2027');
    expect(long.shortname.length).to.be.at.most(100);
    expect(long.fullname.length).to.be.at.most(255);
  });

  it('refuses a period shorter than an hour, a lead time not shorter than the period, a bad date, and any structure but one course', () => {
    const codes = (input: Parameters<typeof checkRecurrence>[0]) => checkRecurrence(input, 'UTC').problems.map((p) => p.code);
    expect(codes({ period: 'PT10M', leadTime: 'PT1M' })).to.deep.equal(['RECURRENCE_PERIOD_INVALID']);
    expect(codes({ period: 'P1Y', leadTime: 'P1Y' })).to.deep.equal(['RECURRENCE_LEAD_TOO_LONG']);
    expect(codes({ period: 'P1Y', leadTime: 'soon' })).to.deep.equal(['RECURRENCE_LEAD_INVALID']);
    expect(codes({ period: 'P1Y', leadTime: 'P1M', startsAt: '2026-02-30' })).to.deep.equal(['DATE_INVALID']);
    expect(checkRecurrence({ period: 'P1Y', leadTime: 'P1D', startsAt: '2026-01-01' }, 'UTC').value?.anchor).to.equal(at('2026-01-01T00:00:00Z'));
    expect(checkRecurringStructure([{ courseIds: [1] }])).to.deep.equal([]);
    expect(checkRecurringStructure([{ courseIds: [1, 2] }])[0]!.code).to.equal('RECURRENCE_NEEDS_ONE_COURSE');
    expect(checkRecurringStructure([{ courseIds: [1] }, { courseIds: [2] }])[0]!.code).to.equal('RECURRENCE_NEEDS_ONE_COURSE');
  });
});
