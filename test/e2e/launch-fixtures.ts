/**
 * Shared set-up for the launch, auth and security suites: a started site with the real
 * enrol_program plugin (and no other), users with passwords, courses, programs, assignments, and
 * signing in through the real login form.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Agent } from 'supertest';
import type { SiteConfig } from '../../core/kernel/config';
import { projectRoot } from '../../core/kernel/config';
import { SESSION_COOKIE } from '../../core/kernel/auth/sessions';
import type { Site } from '../../core/site';
import type { CourseSetInput } from '../../core/modules/programs/service';
import { createTestSite, type TestSite } from '../utils/site';

export interface LaunchSite extends TestSite {
  pluginsDir: string;
}

/** A started site whose plugins folder holds only the real enrol_program plugin. */
export async function createLaunchSite(config: Partial<SiteConfig> = {}): Promise<LaunchSite> {
  const pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-launch-plugins-'));
  fs.symlinkSync(path.join(projectRoot, 'plugins', 'enrol_program'), path.join(pluginsDir, 'enrol_program'), 'dir');
  const t = await createTestSite({ pluginsDir, sessionSecret: 'test-secret-of-sufficient-length', ...config });
  return {
    ...t,
    pluginsDir,
    async close() {
      await t.close();
      fs.rmSync(pluginsDir, { recursive: true, force: true });
    },
  };
}

export async function createUser(site: Site, username: string, options: { password?: string; isAdmin?: boolean; fullname?: string } = {}): Promise<number> {
  const user = await site.services.users.create({
    username,
    email: `${username}@example.com`,
    fullname: options.fullname ?? username,
    password: options.password ?? 'correct horse battery',
    isAdmin: options.isAdmin ?? false,
  });
  return user.id;
}

export async function createCourse(site: Site, shortname: string, fullname = shortname): Promise<number> {
  return (await site.services.courses.create({ shortname, fullname })).id;
}

export async function createProgram(
  site: Site,
  shortname: string,
  courseSets: CourseSetInput[],
  extra: { fullname?: string; available?: boolean; availableFrom?: string | null; availableUntil?: string | null } = {},
): Promise<number> {
  const { program } = await site.services.programs.create({ shortname, fullname: extra.fullname ?? shortname, courseSets, ...extra });
  return program.id;
}

/** Writes an effective assignment directly (the assignment engine has its own suites). */
export async function assign(
  site: Site,
  programId: number,
  userId: number,
  status: 'active' | 'future' | 'exception' | 'unassigned' = 'active',
): Promise<void> {
  const now = site.db.now();
  await site.db
    .knex('program_user_assignments')
    .insert({ program_id: programId, user_id: userId, status, assigned_at: now, created_at: now, updated_at: now })
    .onConflict(['program_id', 'user_id'])
    .merge(['status', 'updated_at']);
}

export async function enrolments(site: Site, userId: number, courseId: number): Promise<Array<{ method: string; status: string }>> {
  return (await site.db.knex('enrolments').where({ user_id: userId, course_id: courseId }).select('method', 'status')) as Array<{
    method: string;
    status: string;
  }>;
}

/** The hidden CSRF token of a form in an HTML page. */
export function csrfFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token in the page');
  return match[1]!;
}

/**
 * Signs in through the real form (GET /login for the token, POST /login); the agent keeps the
 * cookie, which is also returned (`name=value`) for clients outside the agent.
 */
export async function login(agent: Agent, username: string, password = 'correct horse battery'): Promise<string> {
  const form = await agent.get('/login').set('Accept', 'text/html').expect(200);
  const res = await agent
    .post('/login')
    .type('form')
    .send({ username, password, _csrf: csrfFrom(form.text), next: '/' })
    .expect(303);
  const cookies = ([] as string[]).concat((res.headers['set-cookie'] as unknown as string[] | undefined) ?? []);
  const cookie = cookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  if (!cookie) throw new Error('login set no session cookie');
  return cookie.split(';')[0]!;
}
