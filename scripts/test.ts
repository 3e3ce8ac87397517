/**
 * `npm test`: typecheck and the house-rule tools (import rules, knip, eslint, prettier), unit tests,
 * then the integration + e2e suite on SQLite and (when
 * TEST_MYSQL_URL is set) on MySQL/MariaDB, then the browser suite. Ends with one line
 * "N passed, N failed" totalled over every suite.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface Suite {
  name: string;
  specs: string[];
  env?: Record<string, string>;
  /** A suite that must run at least one test (the MySQL suite in CI). */
  required?: boolean;
}

const root = path.resolve(import.meta.dirname, '..');
const mocha = path.join(root, 'node_modules', '.bin', 'mocha');
const reporter = path.join(root, 'test', 'utils', 'counting-reporter.cjs');
const existing = (dirs: string[]) => dirs.filter((d) => fs.existsSync(path.join(root, d)) && fs.readdirSync(path.join(root, d)).length > 0);

const suites: Suite[] = [
  { name: 'unit', specs: existing(['test/unit']) },
  { name: 'integration (sqlite)', specs: existing(['test/integration', 'test/e2e']), env: { WAYMARK_TEST_DB: 'sqlite' } },
];
if (process.env.TEST_MYSQL_URL) {
  suites.push({ name: 'integration (mysql)', specs: existing(['test/integration', 'test/e2e']), env: { WAYMARK_TEST_DB: 'mysql' }, required: true });
}
if (existing(['test/browser']).length && fs.readdirSync(path.join(root, 'test/browser')).some((f) => f.endsWith('.test.ts'))) {
  suites.push({ name: 'browser', specs: ['test/browser'], env: { WAYMARK_TEST_DB: 'sqlite' } });
}

let passed = 0;
let failed = 0;
const problems: string[] = [];

/** House rules checked by tools: each counts as one passed or failed check. */
const checks: Array<{ name: string; bin: string; args: string[] }> = [
  { name: 'typecheck (tsc --noEmit)', bin: 'tsc', args: ['--noEmit', '-p', root] },
  { name: 'import rules (dependency-cruiser)', bin: 'depcruise', args: ['--config', '.dependency-cruiser.cjs', '--output-type', 'err', 'core', 'plugins'] },
  { name: 'table owners (scripts/check-table-owners.ts)', bin: 'tsx', args: ['scripts/check-table-owners.ts'] },
  { name: 'unused files, exports and dependencies (knip)', bin: 'knip', args: [] },
  { name: 'lint (eslint)', bin: 'eslint', args: ['.'] },
  { name: 'format (prettier --check)', bin: 'prettier', args: ['--check', '--log-level', 'warn', '.'] },
];
for (const check of checks) {
  console.log(`\n== ${check.name}`);
  const run = spawnSync(path.join(root, 'node_modules', '.bin', check.bin), check.args, { stdio: 'inherit', cwd: root });
  if (run.status === 0) passed++;
  else {
    failed++;
    problems.push(`${check.name} failed`);
  }
}

const statsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-stats-'));
for (const suite of suites) {
  console.log(`\n== ${suite.name}`);
  if (suite.specs.length === 0) {
    if (suite.required) problems.push(`${suite.name}: no test files`);
    continue;
  }
  const statsFile = path.join(statsDir, `${suite.name.replace(/\W+/g, '_')}.json`);
  const run = spawnSync(mocha, ['--reporter', reporter, ...suite.specs.map((s) => `${s}/**/*.test.ts`)], {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, ...suite.env, WAYMARK_STATS_FILE: statsFile },
  });
  if (!fs.existsSync(statsFile)) {
    failed++;
    problems.push(`${suite.name}: mocha did not finish (exit ${run.status})`);
    continue;
  }
  const stats = JSON.parse(fs.readFileSync(statsFile, 'utf8')) as { passes: number; failures: number; pending: number };
  passed += stats.passes;
  failed += stats.failures;
  if (stats.pending > 0) problems.push(`${suite.name}: ${stats.pending} pending/skipped tests (not allowed)`);
  if (suite.required && stats.passes + stats.failures === 0) problems.push(`${suite.name}: ran no test`);
  if (run.status !== 0 && stats.failures === 0) problems.push(`${suite.name}: mocha exited ${run.status}`);
}
fs.rmSync(statsDir, { recursive: true, force: true });

for (const p of problems) console.error(`! ${p}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || problems.length > 0 ? 1 : 0);
