import { expect } from 'chai';
import fc from 'fast-check';
import { assertCron, latestTick, nextTick, retryDelayMs } from '../../core/kernel/jobs/timing';
import { WaymarkError } from '../../core/kernel/errors';

describe('job timing', () => {
  it('doubles the retry delay each attempt, within ±20% jitter', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60_000 }),
        fc.integer({ min: 1, max: 10 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (backoff, attempt, r) => {
          const delay = retryDelayMs(backoff, attempt, () => r);
          const base = backoff * 2 ** (attempt - 1);
          expect(delay).to.be.within(Math.floor(Math.min(base * 0.8, 86_400_000)), Math.ceil(Math.min(base * 1.2, 86_400_000)));
        },
      ),
    );
    // Even the unluckiest jitter keeps the next retry later than the previous one.
    expect(retryDelayMs(1000, 2, () => 0)).to.be.greaterThan(retryDelayMs(1000, 1, () => 0.999));
  });

  it('finds the tick due at a moment, counting a tick exactly at that moment', () => {
    const at = (iso: string) => Date.parse(iso);
    expect(latestTick('0 2 * * *', at('2026-01-01T02:00:00Z'))).to.equal(at('2026-01-01T02:00:00Z'));
    expect(latestTick('0 2 * * *', at('2026-01-01T01:59:59.999Z'))).to.equal(at('2025-12-31T02:00:00Z'));
    expect(latestTick('*/15 * * * *', at('2026-01-01T10:29:00Z'))).to.equal(at('2026-01-01T10:15:00Z'));
    expect(nextTick('0 2 * * *', at('2026-01-01T02:00:00Z'))).to.equal(at('2026-01-02T02:00:00Z'));
    // Cron is UTC whatever the server's zone.
    expect(nextTick('30 9 * * 1', at('2026-01-01T00:00:00Z'))).to.equal(at('2026-01-05T09:30:00Z'));
  });

  it('accepts five-field cron only', () => {
    expect(() => assertCron('ok', '*/5 * * * *')).to.not.throw();
    for (const bad of ['* * * * * *', '* * * *', '61 * * * *', 'every day', '']) {
      expect(() => assertCron('bad', bad), bad)
        .to.throw(WaymarkError)
        .with.property('code', 'SCHEDULE_CRON_INVALID');
    }
  });
});
