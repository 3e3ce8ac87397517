import { expect } from 'chai';
import fc from 'fast-check';
import {
  addDuration,
  compareDurations,
  isValidDuration,
  maxDuration,
  normalizeDuration,
  parseDuration,
  sumDurations,
} from '../../core/modules/programs/durations';
import { WaymarkError } from '../../core/kernel/errors';

const utc = (iso: string): number => Date.parse(iso);

describe('durations', () => {
  describe('parseDuration / isValidDuration', () => {
    for (const ok of ['P2W', 'P1M', 'P1Y', 'P3D', 'PT36H', 'PT1.5H', 'PT0,5H', 'P1Y2M3DT4H5M6S', 'P1W2D', 'P100Y']) {
      it(`accepts ${ok}`, () => {
        expect(isValidDuration(ok)).to.equal(true);
        expect(parseDuration(ok)).to.not.equal(null);
      });
    }
    for (const bad of [
      '',
      'P',
      'PT',
      'P1DT',
      '2W',
      'p2w',
      ' P2W',
      'P2W ',
      'P-1D',
      'P0D',
      'PT0S',
      'P1.5D',
      'P1.5M',
      'P101Y',
      'P999999999Y',
      'two weeks',
      'P1H',
    ]) {
      it(`rejects ${JSON.stringify(bad)}`, () => {
        expect(isValidDuration(bad)).to.equal(false);
        expect(parseDuration(bad)).to.equal(null);
      });
    }
    it('rejects values that are not strings', () => {
      expect(isValidDuration(14)).to.equal(false);
      expect(isValidDuration(null)).to.equal(false);
    });
  });

  describe('addDuration', () => {
    it('treats P1M as a calendar month, clamping to the end of a shorter month', () => {
      expect(addDuration(utc('2026-01-31T09:00:00Z'), 'P1M')).to.equal(utc('2026-02-28T09:00:00Z'));
      expect(addDuration(utc('2028-01-31T09:00:00Z'), 'P1M')).to.equal(utc('2028-02-29T09:00:00Z'));
      expect(addDuration(utc('2026-04-15T00:00:00Z'), 'P1M')).to.equal(utc('2026-05-15T00:00:00Z'));
    });

    it('adds weeks, years and time units', () => {
      expect(addDuration(utc('2026-03-01T00:00:00Z'), 'P2W')).to.equal(utc('2026-03-15T00:00:00Z'));
      expect(addDuration(utc('2024-02-29T00:00:00Z'), 'P1Y')).to.equal(utc('2025-02-28T00:00:00Z'));
      expect(addDuration(utc('2026-03-01T00:00:00Z'), 'PT1.5H')).to.equal(utc('2026-03-01T01:30:00Z'));
    });

    it('keeps the local wall-clock time across a DST change in the learner zone', () => {
      // Europe/London moves to BST on 2026-03-29: a calendar day is 23 hours, PT24H is not.
      const noonSaturday = utc('2026-03-28T12:00:00Z');
      expect(addDuration(noonSaturday, 'P1D', 'Europe/London')).to.equal(utc('2026-03-29T11:00:00Z'));
      expect(addDuration(noonSaturday, 'PT24H', 'Europe/London')).to.equal(utc('2026-03-29T12:00:00Z'));
      expect(addDuration(noonSaturday, 'P1D')).to.equal(utc('2026-03-29T12:00:00Z'));
    });

    it('throws PROGRAM_DURATION_INVALID for a bad duration and TIMEZONE_INVALID for a bad zone', () => {
      expect(() => addDuration(0, 'P0D'))
        .to.throw(WaymarkError)
        .with.property('code', 'PROGRAM_DURATION_INVALID');
      expect(() => addDuration(0, 'P1D', 'Mars/Olympus'))
        .to.throw(WaymarkError)
        .with.property('code', 'TIMEZONE_INVALID');
    });

    it('always moves strictly forward', () => {
      const duration = fc
        .record({ y: fc.nat(3), m: fc.nat(14), w: fc.nat(6), d: fc.nat(40), h: fc.nat(50) })
        .filter((p) => p.y + p.m + p.w + p.d + p.h > 0)
        .map((p) => `P${p.y ? `${p.y}Y` : ''}${p.m ? `${p.m}M` : ''}${p.w ? `${p.w}W` : ''}${p.d ? `${p.d}D` : ''}${p.h ? `T${p.h}H` : ''}`);
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 4_000_000_000_000 }),
          duration,
          fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York', 'Pacific/Auckland'),
          (at, iso, zone) => {
            expect(isValidDuration(iso)).to.equal(true);
            expect(addDuration(at, iso, zone)).to.be.greaterThan(at);
          },
        ),
      );
    });
  });

  describe('comparing and summing', () => {
    it('compares calendar durations at a fixed reference instant', () => {
      expect(maxDuration('P1M', 'P30D')).to.equal('P1M');
      expect(maxDuration('P4W', 'P1M')).to.equal('P1M');
      expect(maxDuration('P2W', 'P10D')).to.equal('P2W');
      expect(maxDuration('P1M', 'P32D')).to.equal('P32D');
      expect(compareDurations('P1M', 'P31D')).to.equal(0);
      expect(compareDurations('P1D', 'PT24H')).to.equal(0);
      expect(maxDuration('P1M', 'P31D')).to.equal('P1M');
    });

    it('treats null as no duration', () => {
      expect(maxDuration(null, 'P1D')).to.equal('P1D');
      expect(maxDuration('P1D', null)).to.equal('P1D');
      expect(maxDuration(null, null)).to.equal(null);
    });

    it('sums unit by unit, folding weeks into days when mixed', () => {
      expect(sumDurations(['P1M', 'P3D'])).to.equal('P1M3D');
      expect(sumDurations(['P1M', 'P2W'])).to.equal('P1M14D');
      expect(sumDurations(['P1W', 'P2W'])).to.equal('P3W');
      expect(sumDurations(['PT0.1H', 'PT0.2H'])).to.equal('PT0.3H');
      expect(sumDurations([null, 'P1Y', null, 'PT12H'])).to.equal('P1YT12H');
      expect(sumDurations([null, null])).to.equal(null);
      expect(sumDurations([])).to.equal(null);
    });

    it('normalises text so equal durations compare equal', () => {
      expect(normalizeDuration('PT0,5H')).to.equal('PT0.5H');
      expect(normalizeDuration('P1Y2M3DT4H5M6S')).to.equal('P1Y2M3DT4H5M6S');
      expect(normalizeDuration('P0D')).to.equal(null);
    });
  });
});
