import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import { createApp } from '../../core/kernel/http/app';
import { testDialect } from '../utils/db';
import { assign, createCourse, createLaunchSite, createProgram, createUser, enrolments, login, type LaunchSite } from '../e2e/launch-fixtures';

describe(`concurrent course launches (${testDialect})`, function () {
  this.timeout(120_000);
  let t: LaunchSite;
  let server: http.Server;
  let base: string;

  before(async () => {
    t = await createLaunchSite();
    server = http.createServer(createApp(t.site));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await t?.close();
  });

  it('200 simultaneous first launches of one course by one learner: 200 redirects to the course, exactly one enrolment', async () => {
    const site = t.site;
    const courseId = await createCourse(site, 'RACE', 'Race Course');
    const programId = await createProgram(site, 'race', [{ label: 'Only', courseIds: [courseId], rule: 'all' }]);
    const userId = await createUser(site, 'racer');
    await assign(site, programId, userId);
    const cookie = await login(request.agent(server), 'racer');

    const responses = await Promise.all(
      Array.from({ length: 200 }, () => fetch(`${base}/courses/${courseId}/launch`, { headers: { Cookie: cookie, Accept: 'text/html' }, redirect: 'manual' })),
    );
    const statuses = responses.map((r) => r.status);
    const locations = new Set(responses.map((r) => r.headers.get('location')));
    await Promise.all(responses.map((r) => r.body?.cancel()));

    expect(
      statuses.filter((s) => s === 302),
      `statuses: ${[...new Set(statuses)].join(',')}`,
    ).to.have.length(200);
    expect([...locations]).to.deep.equal([`/courses/${courseId}`]);
    expect(await enrolments(site, userId, courseId)).to.deep.equal([{ method: 'program', status: 'active' }]);
  });
});
