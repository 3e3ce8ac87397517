import type { Knex } from 'knex';
import { definePlugin, kernelServices, noParams, noQuery, peopleServices } from '../../core/index';
import type { JobState, PlatformStatus, UserService } from '../../core/index';

/** What the summary route returns and a snapshot row records. */
export interface SiteStats {
  users: number;
  enabledPlugins: number;
  jobs: Record<JobState, number>;
}

/** The services the counts come from: the plugin reads no other owner's table. */
export interface StatsSources {
  users: UserService;
  platform: PlatformStatus;
}

/** Three grouped counts: cheap on any site size, no per-row work. */
export async function collectStats(sources: StatsSources): Promise<SiteStats> {
  const [users, enabledPlugins, jobs] = await Promise.all([sources.users.count(), sources.platform.enabledPlugins(), sources.platform.jobsByState()]);
  return { users, enabledPlugins, jobs };
}

export default definePlugin({
  id: 'tool_sitestats',
  deps: { users: peopleServices.users, platform: kernelServices.platform },
  migrations: [
    {
      name: '0001_snapshots',
      async up(knex: Knex) {
        await knex.schema.createTable('tool_sitestats_snapshots', (t) => {
          t.increments('id');
          t.integer('users').unsigned().notNullable();
          t.integer('enabled_plugins').unsigned().notNullable();
          t.text('jobs').notNullable(); // JSON: counts by state
          t.bigInteger('taken_at').notNullable().index();
        });
      },
      async down(knex: Knex) {
        await knex.schema.dropTableIfExists('tool_sitestats_snapshots');
      },
    },
  ],
  register(ctx) {
    ctx.routes.api({
      method: 'get',
      path: '/tool_sitestats/summary',
      summary: 'Counts of users, enabled plugins and background jobs by state',
      tags: ['tool_sitestats'],
      access: 'admin',
      params: noParams,
      query: noQuery,
      response: {
        type: 'object',
        required: ['users', 'enabledPlugins', 'jobs', 'lastSnapshotAt'],
        properties: {
          users: { type: 'integer' },
          enabledPlugins: { type: 'integer' },
          jobs: { type: 'object', additionalProperties: { type: 'integer' } },
          lastSnapshotAt: { type: ['string', 'null'], format: 'date-time' },
        },
      },
      async handler() {
        const knex = ctx.db.knex;
        const stats = await collectStats(ctx.deps);
        const last = (await knex('tool_sitestats_snapshots').max({ at: 'taken_at' }).first()) as { at: number | string | null } | undefined;
        const lastSnapshotAt = last?.at === null || last?.at === undefined ? null : new Date(Number(last.at)).toISOString();
        return { body: { ...stats, lastSnapshotAt } };
      },
    });
    // An operator page, listed on /admin while the plugin is enabled. Its partial and helper are
    // namespaced by the plugin id (`tool_sitestats/summary`, `tool_sitestats_count`), so any theme
    // can render them and disabling the plugin takes page, partial and helper away together.
    ctx.theme.helper('count', (value: unknown) => Number(value ?? 0).toLocaleString('en'));
    ctx.theme.partial(
      'summary',
      `<div class="wrap"><h1>Site statistics</h1>
<dl class="stats">
  <div><dt>Users</dt><dd>{{tool_sitestats_count stats.users}}</dd></div>
  <div><dt>Enabled plugins</dt><dd>{{tool_sitestats_count stats.enabledPlugins}}</dd></div>
  <div><dt>Queued jobs</dt><dd>{{tool_sitestats_count stats.jobs.queued}}</dd></div>
  <div><dt>Dead jobs</dt><dd>{{tool_sitestats_count stats.jobs.dead}}</dd></div>
</dl></div>`,
    );
    ctx.routes.page({
      method: 'get',
      path: '/admin/sitestats',
      access: 'admin',
      async handler(_req, res) {
        res.locals.render('tool_sitestats/summary', { title: 'Site statistics', stats: await collectStats(ctx.deps) });
      },
    });
    ctx.jobs.define({
      name: 'tool_sitestats.snapshot',
      async handler() {
        const knex = ctx.db.knex;
        const stats = await collectStats(ctx.deps);
        await knex('tool_sitestats_snapshots').insert({
          users: stats.users,
          enabled_plugins: stats.enabledPlugins,
          jobs: JSON.stringify(stats.jobs),
          taken_at: ctx.db.now(),
        });
        return stats;
      },
    });
    ctx.jobs.schedule({ name: 'tool_sitestats.daily', cron: '15 0 * * *', job: 'tool_sitestats.snapshot' });
  },
});
