/**
 * Recurring programs through the programs service (docs/recurrence.md): what an operator's changes
 * do to the periods, and a task that did not run for years catching up period by period.
 */
import { expect } from 'chai';
import type { Site } from '../../core/site';
import { testDialect } from '../utils/db';
import { createTestSite, type TestSite } from '../utils/site';

const at = (text: string): number => Date.parse(text);

describe(`recurring programs: operator changes and catching up (${testDialect})`, function () {
  this.timeout(60_000);
  let t: TestSite;
  let site: Site;
  let seq = 0;

  before(async () => {
    t = await createTestSite();
    site = t.site;
  });
  after(async () => t?.close());

  async function recurring(recurrence: { period: string; leadTime: string; startsAt?: string }) {
    const n = ++seq;
    const course = await site.services.courses.create({ shortname: `rc${n}`, fullname: `Refresher ${n}` });
    const { program } = await site.services.programs.create({
      shortname: `rp${n}`,
      fullname: `Recurring ${n}`,
      courseSets: [{ courseIds: [course.id], rule: 'all' }],
      recurrence,
    });
    return { program, course };
  }
  const periods = async (programId: number) =>
    (await site.services.programs.periods(programId, { name: 'seq', keys: [{ column: 'p.seq', direction: 'asc' }] }, { limit: 100, from: null })).items.map(
      (p) => [p.label, p.status, p.startsAt.slice(0, 10), p.endsAt.slice(0, 10)],
    );

  it('a start date later than the current period makes the current period end there', async () => {
    const { program } = await recurring({ period: 'P1Y', leadTime: 'P1M' });
    const { program: changed } = await site.services.programs.update(program.id, { recurrence: { period: 'P1Y', leadTime: 'P1M', startsAt: '2099-01-01' } });
    expect(changed.recurrence!.current!.endsAt).to.equal('2099-01-01T00:00:00.000Z');
    expect(changed.recurrence!.startsAt).to.equal('2099-01-01T00:00:00.000Z');
  });

  it('a shorter period ends the current one at the next boundary after now, never making periods that are over', async () => {
    const { program } = await recurring({ period: 'P1Y', leadTime: 'P1M', startsAt: '2020-01-01' });
    const before = (await site.services.programs.get(program.id)).recurrence!.current!;
    const { program: monthly } = await site.services.programs.update(program.id, { recurrence: { period: 'P1M', leadTime: 'P1D' } });
    const now = new Date();
    const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
    expect(monthly.recurrence!.current).to.deep.include({ startsAt: before.startsAt, endsAt: nextMonth });
    await site.services.programs.advanceRecurrence(Date.now());
    expect((await site.services.programs.get(program.id)).recurrence!.current!.startsAt).to.equal(before.startsAt);
  });

  it('catches up period by period after years without the task, then stops, keeping the history, and starts again where it was', async () => {
    const { program, course } = await recurring({ period: 'P1Y', leadTime: 'P1M', startsAt: '2026-01-01' });
    const first = (await site.services.programs.get(program.id)).recurrence!.current!;
    const startYear = Number(first.label);
    // Other tests' programs share the site: this one's periods say what happened to it.
    await site.services.programs.advanceRecurrence(at(`${startYear + 3}-02-01T00:00:00Z`));
    const y = (k: number) => String(startYear + k);
    const expected = [
      [y(0), 'past', `${y(0)}-01-01`, `${y(1)}-01-01`],
      [y(1), 'past', `${y(1)}-01-01`, `${y(2)}-01-01`],
      [y(2), 'past', `${y(2)}-01-01`, `${y(3)}-01-01`],
      [y(3), 'current', `${y(3)}-01-01`, `${y(4)}-01-01`],
    ];
    expect(await periods(program.id)).to.deep.equal(expected);
    await site.services.programs.advanceRecurrence(at(`${startYear + 3}-02-01T00:00:00Z`));
    expect(await periods(program.id), 'a second run changes nothing').to.deep.equal(expected);

    // The copy for the next period is made, then the recurrence is stopped: that period is dropped, its copy stays hidden.
    await site.services.programs.advanceRecurrence(at(`${startYear + 3}-12-15T00:00:00Z`));
    const next = (await site.services.programs.get(program.id)).recurrence!.next!;
    expect(next.label).to.equal(y(4));
    const { program: stopped } = await site.services.programs.update(program.id, { recurrence: null });
    expect(stopped.recurrence).to.equal(null);
    expect((await periods(program.id)).map((p) => p[0])).to.deep.equal([y(0), y(1), y(2), y(3)]);
    expect((await site.services.courses.get(next.courseId)).visible).to.equal(false);
    await site.services.programs.advanceRecurrence(at(`${startYear + 5}-01-01T00:00:00Z`));
    expect(
      (await periods(program.id)).map((p) => p[0]),
      'a program that no longer recurs is left alone',
    ).to.deep.equal([y(0), y(1), y(2), y(3)]);

    const { program: again } = await site.services.programs.update(program.id, { recurrence: { period: 'P1Y', leadTime: 'P1M' } });
    expect(again.recurrence!.current).to.deep.include({ label: y(3) });
    expect(again.courseSets[0]!.courseIds).to.not.deep.equal([course.id]);
  });

  it('refuses a structure change that breaks a recurring program, and takes a new course as the current period’s', async () => {
    const { program } = await recurring({ period: 'P6M', leadTime: 'P2W' });
    const other = await site.services.courses.create({ shortname: `rc_other${seq}`, fullname: 'Other' });
    const third = await site.services.courses.create({ shortname: `rc_third${seq}`, fullname: 'Third' });
    let code = '';
    try {
      await site.services.programs.update(program.id, { courseSets: [{ courseIds: [other.id, third.id], rule: 'all' }] });
    } catch (error) {
      code = (error as { details: Array<{ code: string }> }).details[0]!.code;
    }
    expect(code).to.equal('RECURRENCE_NEEDS_ONE_COURSE');
    const { program: swapped } = await site.services.programs.update(program.id, { courseSets: [{ courseIds: [other.id], rule: 'all' }] });
    expect(swapped.recurrence!.current!.courseId).to.equal(other.id);
  });
});
