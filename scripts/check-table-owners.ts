/**
 * House rule (in `npm test`): every table has one owner, and only the owner's store touches it.
 *
 * - a module's tables (`defineModule({ tables })`) appear only in its `store.ts` or `store/`;
 * - the kernel's tables (`core/kernel/tables.ts`) appear only in `core/kernel/`;
 * - a plugin's tables are `<plugin id>_*` and appear only in that plugin's folder;
 * - every table of the schema has exactly one owner.
 *
 * "Appears" means a table name in SQL text (after FROM, JOIN, INTO, UPDATE, TABLE) or a string literal
 * passed as a table (`db('courses')`, `'courses as c'`), outside comments. Another module reads an owner's tables through the
 * services or the SQL views the owner's index exports, so the table layout is known in one place.
 */
import fs from 'node:fs';
import path from 'node:path';
import { coreModules } from '../core/modules/index';
import { kernelTables } from '../core/kernel/tables';

const root = path.resolve(import.meta.dirname, '..');

const ownerOf = new Map<string, string>();
const problems: string[] = [];
function own(table: string, owner: string): void {
  const previous = ownerOf.get(table);
  if (previous) problems.push(`table ${table} is declared by both ${previous} and ${owner}`);
  ownerOf.set(table, owner);
}
for (const table of kernelTables) own(table, 'kernel');
for (const module of coreModules) for (const table of module.tables) own(table, module.id);

const pluginIds = fs
  .readdirSync(path.join(root, 'plugins'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);
const schema = fs.readFileSync(path.join(root, 'db', 'schema', 'sqlite.sql'), 'utf8');
for (const [, table] of schema.matchAll(/CREATE TABLE [`"]?(\w+)/g)) {
  if (/_migrations(_lock)?$/.test(table)) continue; // Knex's own bookkeeping, one pair per migration set
  const plugin = pluginIds.find((id) => table.startsWith(`${id}_`));
  if (plugin) own(table, `plugin ${plugin}`);
  else if (!ownerOf.has(table)) problems.push(`table ${table} has no owner: declare it in its module's defineModule({ tables })`);
}

/** Where a file may touch `owner`'s tables. */
function mayTouch(file: string, owner: string): boolean {
  if (owner === 'kernel') return file.startsWith('core/kernel/');
  if (owner.startsWith('plugin ')) return file.startsWith(`plugins/${owner.slice('plugin '.length)}/`);
  return file === `core/modules/${owner}/store.ts` || file.startsWith(`core/modules/${owner}/store/`);
}

const names = [...ownerOf.keys()].sort((a, b) => b.length - a.length).join('|');
const references = [
  new RegExp(`\\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\\s+[\`"]?(${names})\\b`, 'gi'),
  new RegExp(
    `(?:\\b(?:db|trx|knex|executor|tx|\\w*View)|\\.(?:\\w*[Kk]nex|from|\\w*[Tt]able|\\w*[Jj]oin|into))\\(\\s*['"\`](${names})(?:\\s+as\\s+\\w+)?['"\`]`,
    'gi',
  ),
  new RegExp(`['"\`](${names})\\s+as\\s+\\w+['"\`]`, 'gi'),
  // The dialect helpers of core/kernel/db/sql.ts take the table after other arguments.
  new RegExp(`\\b(?:upsertSql|upsertRows|updateById)\\([^'"\`)]*['"\`](${names})['"\`]`, 'gi'),
];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

for (const full of [...sources(path.join(root, 'core')), ...sources(path.join(root, 'plugins'))]) {
  const file = path.relative(root, full).split(path.sep).join('/');
  if (file.includes('/migrations/')) continue; // a plugin's migrations create its tables
  const text = fs
    .readFileSync(full, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '') // comments name tables in prose
    .replace(/^\s*\/\/.*$/gm, '')
    .replace(/\btables: \[[^\]]*\]/, ''); // the owner's own declaration
  const touched = new Set<string>();
  for (const pattern of references) for (const match of text.matchAll(pattern)) touched.add(match[1].toLowerCase());
  for (const table of touched) {
    const owner = ownerOf.get(table)!;
    if (!mayTouch(file, owner)) problems.push(`${file} touches ${table}, owned by ${owner}`);
  }
}

if (problems.length) {
  for (const problem of problems) console.error(problem);
  console.error(`\n${problems.length} table-ownership problem(s)`);
  process.exit(1);
}
console.log(`table owners: ${ownerOf.size} tables, each touched only by its owner`);
