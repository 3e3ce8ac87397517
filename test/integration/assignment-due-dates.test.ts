import { expect } from 'chai';
import fc from 'fast-check';
import { addDuration } from '../../core/modules/programs/durations';
import { addDurationFast, humanDuration } from '../../core/modules/assignment/sync';

describe('assignment due-date arithmetic', () => {
  it('gives exactly the calendar result of addDuration (luxon, UTC) for any instant and duration', () => {
    const duration = fc
      .record({
        y: fc.nat(3),
        m: fc.nat(25),
        w: fc.nat(5),
        d: fc.nat(40),
        h: fc.nat(50),
        s: fc.nat(4000),
      })
      .filter((p) => p.y + p.m + p.w + p.d + p.h + p.s > 0)
      .map(
        (p) =>
          `P${p.y ? `${p.y}Y` : ''}${p.m ? `${p.m}M` : ''}${p.w ? `${p.w}W` : ''}${p.d ? `${p.d}D` : ''}${p.h || p.s ? `T${p.h ? `${p.h}H` : ''}${p.s ? `${p.s}S` : ''}` : ''}`,
      );
    const instant = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2060, 0, 1) });
    fc.assert(
      fc.property(instant, duration, (at, iso) => {
        expect(addDurationFast(at, iso), `${new Date(at).toISOString()} + ${iso}`).to.equal(addDuration(at, iso));
      }),
      { numRuns: 3000 },
    );
  });

  it('clamps month ends the way an operator expects: 31 January + P1M is 28/29 February', () => {
    expect(new Date(addDurationFast(Date.UTC(2027, 0, 31, 9), 'P1M')).toISOString()).to.equal('2027-02-28T09:00:00.000Z');
    expect(new Date(addDurationFast(Date.UTC(2028, 0, 31, 9), 'P1M')).toISOString()).to.equal('2028-02-29T09:00:00.000Z');
  });

  it('describes durations in words for rule descriptions', () => {
    expect(humanDuration('P1M')).to.equal('1 month');
    expect(humanDuration('P2W')).to.equal('2 weeks');
    expect(humanDuration('P1Y2M3D')).to.equal('1 year 2 months 3 days');
  });
});
