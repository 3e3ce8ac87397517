import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../core/kernel/config';
import { WaymarkError } from '../../core/kernel/errors';
import { PluginErrorCode } from '../../core/kernel/plugins/codes';
import { PLUGIN_ID_PATTERN } from '../../core/kernel/plugins/manifest';
import { SDK_VERSION } from '../../core/kernel/plugins/sdk-version';

/**
 * MySQL identifiers stop at 64 characters and every plugin gets a `<id>_migrations` table, so a
 * longer id would scaffold fine and then fail its first migration.
 */
const MAX_ID_LENGTH = 50;

/** "local_hello_world" -> "Hello world". */
function titleOf(id: string): string {
  const name = id.slice(id.indexOf('_') + 1).replace(/_/g, ' ');
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** The import specifier of a core module as seen from the new plugin's folder (plugins may live outside the tree). */
function coreImport(pluginDir: string, module: string): string {
  const relative = path
    .relative(pluginDir, path.join(projectRoot, 'core', module))
    .split(path.sep)
    .join('/');
  return relative.startsWith('.') ? relative : `./${relative}`;
}

function manifestOf(id: string): string {
  const major = SDK_VERSION.split('.')[0];
  const manifest = {
    id,
    name: titleOf(id),
    version: '0.1.0',
    sdk: `^${major}.0.0`,
    defaultEnabled: true,
    description: `${titleOf(id)}: describe what this plugin does for operators.`,
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

function indexOf(id: string, pluginDir: string): string {
  const table = `${id}_items`;
  return `import type { Knex } from 'knex';
import { definePlugin } from '${coreImport(pluginDir, 'index')}';

/** One row of ${table}, as the API returns it. */
export interface Item {
  id: number;
  name: string;
  createdAt: string;
}

export default definePlugin({
  id: '${id}',
  // The plugin's own tables, prefixed with its id; migrated with their own ${id}_migrations table.
  migrations: [
    {
      name: '0001_items',
      async up(knex: Knex) {
        await knex.schema.createTable('${table}', (t) => {
          t.increments('id');
          t.string('name', 255).notNullable();
          t.bigInteger('created_at').notNullable();
        });
      },
      async down(knex: Knex) {
        await knex.schema.dropTableIfExists('${table}');
      },
    },
  ],
  // Declare only: no database access here. Disabling the plugin removes everything declared.
  register(ctx) {
    ctx.routes.api({
      method: 'get',
      path: '/${id}/items',
      summary: 'Lists the items of ${id}',
      tags: ['${id}'],
      access: 'admin',
      response: {
        type: 'object',
        properties: {
          items: {
            type: 'array',
            items: {
              type: 'object',
              properties: { id: { type: 'integer' }, name: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } },
            },
          },
        },
      },
      async handler() {
        const rows = (await ctx.db.knex('${table}').orderBy('id').limit(100).select('id', 'name', 'created_at')) as Array<{
          id: number;
          name: string;
          created_at: number | string;
        }>;
        const items: Item[] = rows.map((r) => ({ id: Number(r.id), name: r.name, createdAt: new Date(Number(r.created_at)).toISOString() }));
        return { body: { items } };
      },
    });
  },
});
`;
}

/**
 * For an `assign_` id: an assignment source, the commonest kind of third-party plugin. "Users whose
 * username starts with a prefix" is deliberately trivial, so the author sees the whole contract:
 * the instance schema, validation, a description, the member subquery and the incremental check.
 */
function assignmentSourceOf(id: string, pluginDir: string): string {
  const type = id.slice('assign_'.length);
  return `import { definePlugin, peopleServices, peopleViews, type AssignmentSource, type RuleInstance, type UserService } from '${coreImport(pluginDir, 'index')}';

/** A rule instance: the username prefix (\`instanceId\` is unused by this source and fixed at 1). */
export interface PrefixInstance extends RuleInstance {
  prefix: string;
}

/** Users whose username starts with \`prefix\`. The people service comes from the plugin's declared deps. */
export function createSource(users: UserService): AssignmentSource<PrefixInstance> {
  return {
    type: '${type}',
    name: '${titleOf(id)}',
    instanceSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['instanceId', 'prefix'],
      properties: { instanceId: { const: 1 }, prefix: { type: 'string', minLength: 1, maxLength: 100 } },
    },
    async validate(instance) {
      return /^[A-Za-z0-9._-]+$/.test(instance.prefix)
        ? []
        : [{ path: 'prefix', code: 'PREFIX_INVALID', message: 'Use letters, digits, dot, dash or underscore' }];
    },
    async describe(instance) {
      return \`Users whose username starts with \${instance.prefix}\`;
    },
    // Set-based: one subquery for every member; the core adds its own filters around it. Users are
    // the people module's: read them through its published view (always with an alias), never the table.
    members(instance, ctx) {
      return ctx
        .db(peopleViews.users.as('u'))
        .where('u.username', '>=', instance.prefix)
        .where('u.username', '<', \`\${instance.prefix}\\uffff\`)
        .select('u.id as user_id');
    },
    // Usernames never change after creation, so only a new user can join a rule.
    async affectedRules(change, rules, ctx) {
      if (change.type !== 'user' || change.field !== 'created') return [];
      const user = await users.find(change.userId, ctx.db);
      return user ? rules.filter((r) => user.username.startsWith(r.instance.prefix)).map((r) => r.id) : [];
    },
  };
}

export default definePlugin({
  id: '${id}',
  deps: { users: peopleServices.users },
  // Declare only: no database access here. Disabling the plugin removes the source at once.
  register(ctx) {
    const source = createSource(ctx.deps.users);
    ctx.extensions.contribute('assignmentSources', source.type, source);
  },
});
`;
}

function readmeOf(id: string): string {
  return `# ${titleOf(id)} (\`${id}\`)

Scaffolded with \`npx waymark plugin new ${id}\`. It already passes the plugin contract suite
(\`test/integration/plugin-contract.test.ts\` runs it for every folder in \`plugins/\`).

- \`plugin.json\`: the manifest, read before any code is imported. Keep \`sdk\` matching the core SDK.
- \`index.ts\`: \`definePlugin({ id, deps, migrations, register })\`. \`deps\` names the core services the
  plugin uses (\`peopleServices.users\`, \`learningServices.enrolments\`, ...): \`ctx.deps\` hands exactly
  those. \`register()\` only declares (routes,
  hooks listed in \`plugin.json\` \`hooks\`, jobs named \`${id}.<name>\`, extension contributions) and
  never touches the database.
- Tables: prefix every table with \`${id}_\`; add migrations, never edit a released one.
- Try it: \`npx waymark migrate\`, then \`GET /api/v1/${id}/items\` with an admin token.

See \`docs/plugin-authors.md\` for the SDK and \`docs/assignment-sources.md\` for a worked example.
`;
}

/**
 * Creates `<pluginsDir>/<id>/` with plugin.json, index.ts and README.md, and returns the folder.
 * index.ts is an assignment-source skeleton for an `assign_` id, otherwise a `<id>_items` table
 * with one admin route. The result passes the contract suite unchanged.
 * Rejects an id that is not frankenstyle (`type_name`), is too long, or already exists.
 */
export async function scaffoldPlugin(id: string, pluginsDir: string = path.join(projectRoot, 'plugins')): Promise<string> {
  if (!new RegExp(PLUGIN_ID_PATTERN).test(id)) {
    throw new WaymarkError(PluginErrorCode.idPattern, `"${id}" is not a plugin id: use frankenstyle type_name, e.g. local_hello (${PLUGIN_ID_PATTERN})`, 400, [
      { path: 'id', code: PluginErrorCode.idPattern, message: 'not frankenstyle type_name' },
    ]);
  }
  if (id.length > MAX_ID_LENGTH) {
    throw new WaymarkError(
      'PLUGIN_ID_TOO_LONG',
      `"${id}" is longer than ${MAX_ID_LENGTH} characters (its tables would exceed MySQL's 64-character names)`,
      400,
      [{ path: 'id', code: 'PLUGIN_ID_TOO_LONG', message: `at most ${MAX_ID_LENGTH} characters` }],
    );
  }
  const dir = path.join(path.resolve(pluginsDir), id);
  await fs.promises.mkdir(path.dirname(dir), { recursive: true });
  // mkdir without `recursive` fails if the folder exists, so two racing scaffolds cannot both win.
  try {
    await fs.promises.mkdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new WaymarkError('PLUGIN_EXISTS', `${dir} already exists`, 409);
    throw error;
  }
  // Relative imports must be computed from where the folder really is (a symlinked tmp dir resolves elsewhere).
  const realDir = await fs.promises.realpath(dir);
  await fs.promises.writeFile(path.join(dir, 'plugin.json'), manifestOf(id));
  await fs.promises.writeFile(path.join(dir, 'index.ts'), id.startsWith('assign_') ? assignmentSourceOf(id, realDir) : indexOf(id, realDir));
  await fs.promises.writeFile(path.join(dir, 'README.md'), readmeOf(id));
  return dir;
}
