import semver from 'semver';
import type { Knex } from 'knex';
import type { ValidateFunction } from 'ajv';
import type { KernelCore as Kernel } from '../parts';
import { WaymarkError, notFound } from '../errors';
import { dropMigrationTables, migrateLatest, migrateRollbackAll, type MigrationSet } from '../db/migrations';
import { PluginErrorCode } from './codes';
import { createRegisterContext, createRuntimeContext, removeRegistrations } from './context';
import { discoverPlugins, importPluginDefinition, type DiscoveredPlugin } from './discovery';
import { createSettingsAjv, type PluginProblem } from './manifest';
import { resolveLoadOrder } from './load-order';
import type { PluginDefinition, PluginInfo, PluginManifest, PluginRuntimeContext } from './types';

/** A row of the core `plugins` table. */
interface PluginRow {
  id: string;
  version: string | null;
  enabled: boolean;
  state: string;
  errorCode: string | null;
  errorMessage: string | null;
}

interface Started {
  definition: PluginDefinition;
  ctx: PluginRuntimeContext;
}

interface Failure {
  code: string;
  message: string;
}

/** The migration set of one plugin: its own migrations and its own bookkeeping table. */
export function pluginMigrationSet(id: string, definition: PluginDefinition): MigrationSet {
  return { tableName: `${id}_migrations`, migrations: definition.migrations ?? [] };
}

const settingsKey = (id: string): string => `plugin_settings:${id}`;

/**
 * Finds, installs, starts, stops and removes plugins. State lives in the core `plugins` table so
 * every process (servers, workers, the CLI) agrees; each process applies it to its own registries.
 *
 * Lifecycle of one enabled plugin, in dependency order: import index.ts -> register(ctx) ->
 * migrate (`<id>_migrations`) -> start(ctx). A failure at any step marks only that plugin errored,
 * removes whatever it registered, and the site carries on.
 */
export class PluginManager {
  private discovered = new Map<string, DiscoveredPlugin>();
  /** Graph problems (missing dependency, version, cycle) on top of manifest problems. */
  private graphProblems = new Map<string, PluginProblem>();
  private order: string[] = [];
  private discoveredOnce = false;
  private readonly definitions = new Map<string, PluginDefinition>();
  private readonly started = new Map<string, Started>();
  private readonly failures = new Map<string, Failure>();
  /** The `enabled` value this process last acted on, so refresh() only applies real changes. */
  private readonly seenEnabled = new Map<string, boolean>();
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly settingsAjv = createSettingsAjv();
  private chain: Promise<unknown> = Promise.resolve();
  private booted = false;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** Folders found by the poll with a problem: read again on every poll until they are valid. */
  private readonly unsettled = new Set<string>();
  /** Set while install() runs: told which migrations each plugin applied. */
  private lastApplied: ((id: string, applied: string[]) => void) | undefined;

  /** The kernel as plugin contexts see it: its parts, with this manager for their settings. */
  private readonly host: Kernel & { readonly plugins: PluginManager };

  constructor(private readonly site: Kernel) {
    this.host = Object.assign(Object.create(site) as Kernel, { plugins: this });
  }

  /**
   * Discovers and installs/upgrades every valid, enabled plugin without starting it (`waymark
   * migrate`); returns the migrations applied, per plugin that applied any.
   */
  install(): Promise<Array<{ id: string; applied: string[] }>> {
    return this.exclusive(async () => {
      this.discover();
      await this.ensureRows();
      const rows = await this.readRows();
      const installed = new Set<string>();
      const report: Array<{ id: string; applied: string[] }> = [];
      this.lastApplied = (id, applied) => report.push({ id, applied });
      for (const id of this.order) {
        const row = rows.get(id);
        if (!row?.enabled) continue;
        const blocked = this.blockedDependency(id, (dep) => installed.has(dep), rows);
        if (blocked) {
          await this.fail(id, PluginErrorCode.dependencyInactive, blocked);
          continue;
        }
        if (await this.prepare(id, row, false)) installed.add(id);
      }
      this.lastApplied = undefined;
      return report;
    });
  }

  /** Discovers, installs and starts every enabled plugin in dependency order; optionally watches for changes. */
  async boot(options: { watch: boolean }): Promise<void> {
    await this.exclusive(async () => {
      this.stopping = false;
      this.discover();
      await this.ensureRows();
      const rows = await this.readRows();
      this.booted = true;
      for (const id of this.order) {
        const row = rows.get(id);
        this.seenEnabled.set(id, row?.enabled ?? false);
        if (row?.enabled) await this.activate(id, row, rows);
      }
    });
    if (options.watch && !this.timer) {
      this.timer = setInterval(() => {
        if (this.polling) return;
        this.polling = true;
        this.refresh()
          .catch((error: unknown) => this.site.logger.error('plugin state refresh failed', { error: String(error) }))
          .finally(() => {
            this.polling = false;
          });
      }, this.site.config.pluginPollMs);
      // The watcher must never keep a process alive on its own.
      this.timer.unref();
    }
  }

  /** Every plugin found on disk (valid or not) plus installed plugins whose folder is gone. */
  list(): Promise<PluginInfo[]> {
    return this.exclusive(async () => {
      if (!this.discoveredOnce) this.discover();
      const rows = await this.readRows();
      const ids = new Set([...this.discovered.keys(), ...rows.keys()]);
      return [...ids].sort().map((id) => this.info(id, rows.get(id)));
    });
  }

  /** Enables a plugin for every process (persisted) and starts it in this one if this process runs plugins. */
  enable(id: string): Promise<PluginInfo> {
    return this.exclusive(async () => {
      if (!this.discoveredOnce) this.discover();
      const rows = await this.readRows();
      const found = this.discovered.get(id);
      if (!found && !rows.has(id)) throw notFound('Plugin', id);
      const problem = this.problemOf(id);
      if (!found || problem) {
        const code = problem?.code ?? PluginErrorCode.codeMissing;
        throw new WaymarkError(PluginErrorCode.pluginInvalid, `${id} cannot be enabled: ${problem?.message ?? 'its folder is missing'}`, 409, [
          { path: id, code, message: problem?.message ?? 'folder missing' },
        ]);
      }
      const offDeps = Object.keys(found.manifest!.requires ?? {}).filter((dep) => !rows.get(dep)?.enabled);
      if (offDeps.length) {
        throw new WaymarkError(
          PluginErrorCode.dependencyInactive,
          `${id} requires ${offDeps.join(', ')}: enable ${offDeps.length > 1 ? 'them' : 'it'} first`,
          409,
        );
      }
      await this.writeRow(id, { enabled: true, state: 'enabled', error_code: null, error_message: null });
      this.seenEnabled.set(id, true);
      this.failures.delete(id);
      if (this.booted && !this.started.has(id)) {
        const fresh = await this.readRows();
        await this.activate(id, fresh.get(id)!, fresh);
      }
      return this.info(id, (await this.readRows()).get(id));
    });
  }

  /**
   * Disables a plugin for every process (persisted) and removes its hooks, routes, jobs, theme
   * additions and extension contributions here at once, then calls its stop(). Refused (409,
   * PM019) while an enabled plugin requires it: the operator disables dependents first.
   */
  disable(id: string): Promise<PluginInfo> {
    return this.exclusive(async () => {
      if (!this.discoveredOnce) this.discover();
      const rows = await this.readRows();
      if (!this.discovered.has(id) && !rows.has(id)) throw notFound('Plugin', id);
      this.refuseIfRequired(id, rows, 'disabled');
      await this.writeRow(id, { enabled: false, state: 'disabled', error_code: null, error_message: null });
      this.seenEnabled.set(id, false);
      this.failures.delete(id);
      await this.deactivate(id);
      return this.info(id, (await this.readRows()).get(id));
    });
  }

  /**
   * Disables the plugin, rolls back its migrations (dropping its tables), drops its migration
   * table and forgets its row and settings. The folder stays: remove it too, or the next boot
   * installs the plugin again.
   */
  uninstall(id: string): Promise<void> {
    return this.exclusive(async () => {
      if (!this.discoveredOnce) this.discover();
      const rows = await this.readRows();
      const row = rows.get(id);
      const found = this.discovered.get(id);
      if (!found && !row) throw notFound('Plugin', id);
      this.refuseIfRequired(id, rows, 'uninstalled');
      await this.deactivate(id);
      if (row?.version !== null && row?.version !== undefined) {
        if (!found?.manifest) {
          throw new WaymarkError(
            PluginErrorCode.codeMissing,
            `${id} cannot be uninstalled: its code (folder or valid plugin.json) is missing, so its migrations cannot be rolled back`,
            409,
          );
        }
        const definition = await this.definition(id, found.manifest);
        const set = pluginMigrationSet(id, definition);
        await migrateRollbackAll(this.site.db.knex, set);
        await dropMigrationTables(this.site.db.knex, set);
      }
      await this.site.db.transaction(async (trx) => {
        await trx('plugins').where({ id }).delete();
        await trx('site_config')
          .where({ name: settingsKey(id) })
          .delete();
      });
      this.seenEnabled.delete(id);
      this.failures.delete(id);
      this.site.logger.info('plugin uninstalled', { plugin: id });
    });
  }

  /** Re-reads the plugins table and applies enable/disable/uninstall done by another process. */
  refresh(): Promise<void> {
    return this.exclusive(async () => {
      if (!this.booted || this.stopping) return;
      await this.discoverAdded();
      const rows = await this.readRows();
      // Stop dependents before what they depend on, start dependencies first.
      for (const id of [...this.order].reverse()) {
        const wanted = rows.get(id)?.enabled ?? false;
        if (!wanted && this.seenEnabled.get(id) !== false) {
          this.seenEnabled.set(id, false);
          this.failures.delete(id);
          await this.deactivate(id);
        }
      }
      for (const id of this.order) {
        const row = rows.get(id);
        if (row?.enabled && this.seenEnabled.get(id) !== true) {
          this.seenEnabled.set(id, true);
          this.failures.delete(id);
          if (!this.started.has(id)) await this.activate(id, row, rows);
        }
      }
    });
  }

  /** The plugin's enabled flag as stored (what every process converges on), or null for no such plugin. */
  async storedEnabled(id: string): Promise<boolean | null> {
    const row = (await this.site.db.knex('plugins').where('id', id).first('enabled')) as { enabled: unknown } | undefined;
    return row ? Boolean(row.enabled) : null;
  }

  /** True while the plugin is started in this process (its routes answer, its hooks run). */
  isActive(id: string): boolean {
    return this.started.has(id);
  }

  /** Plugin ids in load order (dependencies first), as used for hook tie-breaking. */
  loadOrder(): readonly string[] {
    return this.order;
  }

  /**
   * A started plugin's settings as loaded at its start (or last save), without a database read, so
   * a hook handler inside a transaction can consult them. Empty for a plugin that is not running.
   */
  currentSettings(id: string): Record<string, unknown> {
    return this.started.get(id)?.ctx.settings ?? {};
  }

  /** A discovered plugin's manifest, or undefined (unknown id or an unreadable manifest). */
  manifestOf(id: string): PluginManifest | undefined {
    if (!this.discoveredOnce) this.discover();
    return this.discovered.get(id)?.manifest ?? undefined;
  }

  /** The plugin's settings: stored values with the settingsSchema defaults applied. */
  getSettings(id: string): Promise<Record<string, unknown>> {
    return this.exclusive(async () => {
      if (!this.discoveredOnce) this.discover();
      const manifest = this.discovered.get(id)?.manifest;
      if (!manifest) throw notFound('Plugin', id);
      return this.loadSettings(manifest);
    });
  }

  /**
   * Validates and stores settings (422 PM021 with details when they do not match the schema;
   * nothing is stored then). A started plugin is restarted so start() sees the new values.
   */
  setSettings(id: string, values: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.exclusive(async () => {
      if (!this.discoveredOnce) this.discover();
      const manifest = this.discovered.get(id)?.manifest;
      if (!manifest) throw notFound('Plugin', id);
      const settings = this.validateSettings(manifest, structuredClone(values));
      const now = this.site.db.now();
      await this.site.db
        .knex('site_config')
        .insert({ name: settingsKey(id), value: JSON.stringify(values), updated_at: now })
        .onConflict('name')
        .merge(['value', 'updated_at']);
      const running = this.started.get(id);
      if (running) {
        await running.definition.stop?.(running.ctx);
        const ctx = createRuntimeContext(this.host, manifest, running.definition, settings);
        try {
          await running.definition.start?.(ctx);
          running.ctx = ctx;
        } catch (error) {
          await this.fail(id, PluginErrorCode.startFailed, messageOf(error));
        }
      }
      return settings;
    });
  }

  /** Stops every started plugin, last started first, and stops watching. */
  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopping = true;
    await this.exclusive(async () => {
      for (const id of [...this.started.keys()].reverse()) {
        const { definition, ctx } = this.started.get(id)!;
        this.started.delete(id);
        try {
          await definition.stop?.(ctx);
        } catch (error) {
          this.site.logger.error('plugin stop failed', { plugin: id, error: messageOf(error) });
        }
      }
      this.booted = false;
    });
  }

  // ---------------------------------------------------------------------------------------------

  /** Serialises state changes: the watcher and an API call must never interleave on one plugin. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private discover(found: DiscoveredPlugin[] = discoverPlugins(this.site.config.pluginsDir), alreadyReported: ReadonlySet<string> = new Set()): void {
    this.discovered = new Map(found.map((p) => [p.id, p]));
    const valid = new Map<string, PluginManifest>();
    const invalid = new Set<string>();
    for (const p of found) {
      if (p.manifest && p.problems.length === 0) valid.set(p.id, p.manifest);
      else invalid.add(p.id);
    }
    const { order, problems } = resolveLoadOrder(valid, invalid);
    this.order = order;
    this.graphProblems = problems;
    this.discoveredOnce = true;
    const rank = new Map(order.map((id, i) => [id, i]));
    // Core modules (and the kernel's own 'core' registrations) rank before every plugin.
    this.site.hooks.setPluginRank((plugin) => (plugin === 'core' || this.site.moduleIds.has(plugin) ? -1 : (rank.get(plugin) ?? order.length)));
    for (const p of found) {
      if (alreadyReported.has(p.id)) continue;
      const problem = this.problemOf(p.id);
      if (problem) this.site.logger.warn('plugin invalid', { plugin: p.id, code: problem.code, error: problem.message });
    }
  }

  /**
   * The poll's rescan of the plugins folder: a folder added since boot becomes a known, disabled
   * plugin (a row with enabled = false, so every process and the next boot agree it is off until an
   * operator enables it, without a restart). A folder added with a problem (say plugin.json still
   * being copied) is read again on every poll until it is valid. Folders known at boot keep what was
   * read then: a removed or changed folder takes effect at the next restart.
   */
  private async discoverAdded(): Promise<void> {
    const settled = new Set([...this.discovered.keys()].filter((id) => !this.unsettled.has(id)));
    const changed = discoverPlugins(this.site.config.pluginsDir, settled).filter((p) => {
      const before = this.discovered.get(p.id);
      return !before || JSON.stringify([before.manifest, before.problems]) !== JSON.stringify([p.manifest, p.problems]);
    });
    if (!changed.length) return;
    const merged = new Map(this.discovered);
    for (const p of changed) {
      merged.set(p.id, p);
      if (p.problems.length) this.unsettled.add(p.id);
      else this.unsettled.delete(p.id);
      if (!this.seenEnabled.has(p.id)) this.seenEnabled.set(p.id, false);
    }
    const ids = new Set(changed.map((p) => p.id));
    this.discover([...merged.values()], new Set([...merged.keys()].filter((id) => !ids.has(id))));
    const valid = [...ids].filter((id) => this.order.includes(id));
    const now = this.site.db.now();
    if (valid.length)
      await this.site.db
        .knex('plugins')
        .insert(valid.map((id) => ({ id, version: null, enabled: false, state: 'disabled', updated_at: now })))
        .onConflict('id')
        .ignore();
    this.site.logger.info('plugin folders found', { plugins: [...ids] });
  }

  private problemOf(id: string): PluginProblem | undefined {
    return this.discovered.get(id)?.problems[0] ?? this.graphProblems.get(id);
  }

  /** First sight of a valid plugin: a row, enabled per its defaultEnabled. Safe when two processes race. */
  private async ensureRows(): Promise<void> {
    const now = this.site.db.now();
    const fresh = this.order.map((id) => {
      const enabled = this.discovered.get(id)!.manifest!.defaultEnabled ?? true;
      return { id, version: null, enabled, state: enabled ? 'enabled' : 'disabled', updated_at: now };
    });
    if (fresh.length) await this.site.db.knex('plugins').insert(fresh).onConflict('id').ignore();
  }

  private async readRows(): Promise<Map<string, PluginRow>> {
    const rows = (await this.site.db.knex('plugins').select('*')) as Array<Record<string, unknown>>;
    return new Map(
      rows.map((r) => [
        String(r.id),
        {
          id: String(r.id),
          version: (r.version as string | null) ?? null,
          enabled: Boolean(r.enabled),
          state: String(r.state),
          errorCode: (r.error_code as string | null) ?? null,
          errorMessage: (r.error_message as string | null) ?? null,
        },
      ]),
    );
  }

  private async writeRow(id: string, patch: Record<string, unknown>): Promise<void> {
    const now = this.site.db.now();
    const updated = await this.site.db
      .knex('plugins')
      .where({ id })
      .update({ ...patch, updated_at: now });
    if (updated === 0) {
      await this.site.db
        .knex('plugins')
        .insert({ id, version: null, enabled: false, state: 'disabled', ...patch, updated_at: now })
        .onConflict('id')
        .merge();
    }
  }

  private refuseIfRequired(id: string, rows: Map<string, PluginRow>, verb: string): void {
    // An errored dependent is not running anyway; it must not pin a broken plugin in place.
    const dependents = this.order.filter(
      (other) =>
        other !== id &&
        rows.get(other)?.enabled &&
        rows.get(other)?.state !== 'errored' &&
        !this.failures.has(other) &&
        this.discovered.get(other)?.manifest?.requires?.[id] !== undefined,
    );
    if (dependents.length) {
      throw new WaymarkError(
        PluginErrorCode.requiredBy,
        `${id} cannot be ${verb}: ${dependents.join(', ')} require${dependents.length > 1 ? '' : 's'} it. Disable ${dependents.length > 1 ? 'them' : 'it'} first.`,
        409,
        dependents.map((d) => ({ path: d, code: PluginErrorCode.requiredBy, message: `${d} requires ${id}` })),
      );
    }
  }

  /** Why a plugin cannot run yet: the first required plugin that is not ready, or null. */
  private blockedDependency(id: string, ready: (dep: string) => boolean, rows: Map<string, PluginRow>): string | null {
    for (const dep of Object.keys(this.discovered.get(id)!.manifest!.requires ?? {})) {
      if (ready(dep)) continue;
      const problem = this.problemOf(dep);
      const failure = this.failures.get(dep);
      const reason = problem
        ? `is invalid (${problem.code})`
        : failure
          ? `is errored (${failure.code})`
          : rows.get(dep)?.enabled
            ? 'is not running'
            : 'is disabled';
      return `${id} requires ${dep}, which ${reason}`;
    }
    return null;
  }

  private async definition(id: string, manifest: PluginManifest): Promise<PluginDefinition> {
    const cached = this.definitions.get(id);
    if (cached) return cached;
    const definition = await importPluginDefinition(this.discovered.get(id)!.dir, manifest);
    this.definitions.set(id, definition);
    return definition;
  }

  /**
   * Import, (register,) migrate: everything but start. Returns false after recording a failure.
   * With `register` the registrations stay in place for start(); on failure they are removed.
   */
  private async prepare(id: string, row: PluginRow, register: boolean): Promise<PluginDefinition | null> {
    const manifest = this.discovered.get(id)!.manifest!;
    let definition: PluginDefinition;
    try {
      definition = await this.definition(id, manifest);
    } catch (error) {
      await this.fail(id, (error as WaymarkError).code ?? PluginErrorCode.importFailed, messageOf(error));
      return null;
    }
    if (row.version && semver.valid(row.version) && semver.gt(row.version, manifest.version)) {
      await this.fail(
        id,
        PluginErrorCode.downgrade,
        `${id} ${row.version} is installed but the code is ${manifest.version}: downgrades are refused; restore the newer code`,
      );
      return null;
    }
    if (register) {
      try {
        definition.register(createRegisterContext(this.host, manifest, definition));
      } catch (error) {
        await this.fail(id, PluginErrorCode.registerFailed, messageOf(error));
        return null;
      }
    }
    try {
      const applied = await migrateWaitingForLock(this.site.db.knex, pluginMigrationSet(id, definition));
      if (applied.length) {
        this.site.logger.info('plugin migrated', { plugin: id, from: row.version, to: manifest.version, applied });
        this.lastApplied?.(id, applied);
      }
    } catch (error) {
      await this.fail(id, PluginErrorCode.migrationFailed, messageOf(error));
      return null;
    }
    if (row.version !== manifest.version) {
      await this.site.db
        .knex('plugins')
        .where({ id })
        .update({
          version: manifest.version,
          installed_at: this.site.db.knex.raw('COALESCE(installed_at, ?)', [this.site.db.now()]),
          updated_at: this.site.db.now(),
        });
    }
    return definition;
  }

  /** Register, migrate and start one plugin whose dependencies are already started. */
  private async activate(id: string, row: PluginRow, rows: Map<string, PluginRow>): Promise<void> {
    const blocked = this.blockedDependency(id, (dep) => this.started.has(dep), rows);
    if (blocked) {
      await this.fail(id, PluginErrorCode.dependencyInactive, blocked);
      return;
    }
    const definition = await this.prepare(id, row, true);
    if (!definition) return;
    const manifest = this.discovered.get(id)!.manifest!;
    let ctx: PluginRuntimeContext;
    try {
      ctx = createRuntimeContext(this.host, manifest, definition, await this.loadSettings(manifest));
    } catch (error) {
      await this.fail(id, PluginErrorCode.settingsInvalid, messageOf(error));
      return;
    }
    try {
      await definition.start?.(ctx);
    } catch (error) {
      await this.fail(id, PluginErrorCode.startFailed, messageOf(error));
      return;
    }
    this.started.set(id, { definition, ctx });
    this.failures.delete(id);
    await this.writeRow(id, { state: 'enabled', error_code: null, error_message: null });
    this.site.logger.info('plugin started', { plugin: id, version: manifest.version });
  }

  private async deactivate(id: string): Promise<void> {
    removeRegistrations(this.site, id);
    const running = this.started.get(id);
    if (!running) return;
    this.started.delete(id);
    try {
      await running.definition.stop?.(running.ctx);
    } catch (error) {
      this.site.logger.error('plugin stop failed', { plugin: id, error: messageOf(error) });
    }
    this.site.logger.info('plugin stopped', { plugin: id });
  }

  /** Marks one plugin errored (here and in the table) and removes what it registered. */
  private async fail(id: string, code: string, message: string): Promise<void> {
    removeRegistrations(this.site, id);
    this.started.delete(id);
    this.failures.set(id, { code, message });
    this.site.logger.error('plugin failed', { plugin: id, code, error: message });
    await this.writeRow(id, { state: 'errored', error_code: code, error_message: message.slice(0, 10_000) });
  }

  private validator(manifest: PluginManifest): ValidateFunction | null {
    if (!manifest.settingsSchema) return null;
    let validate = this.validators.get(manifest.id);
    if (!validate) {
      validate = this.settingsAjv.compile(manifest.settingsSchema);
      this.validators.set(manifest.id, validate);
    }
    return validate;
  }

  private validateSettings(manifest: PluginManifest, values: Record<string, unknown>): Record<string, unknown> {
    const validate = this.validator(manifest);
    if (validate && !validate(values)) {
      const details = (validate.errors ?? []).map((e) => ({
        path: e.instancePath.replace(/^\//, ''),
        code: PluginErrorCode.settingsInvalid,
        message: `${e.instancePath.replace(/^\//, '') || 'settings'} ${e.message ?? 'is invalid'}`,
      }));
      throw new WaymarkError(PluginErrorCode.settingsInvalid, `Invalid settings for ${manifest.id}: ${details.map((d) => d.message).join('; ')}`, 422, details);
    }
    return values;
  }

  private async loadSettings(manifest: PluginManifest): Promise<Record<string, unknown>> {
    const row = (await this.site.db
      .knex('site_config')
      .where({ name: settingsKey(manifest.id) })
      .first()) as { value: string } | undefined;
    const stored = row ? (JSON.parse(row.value) as Record<string, unknown>) : {};
    return this.validateSettings(manifest, stored);
  }

  private info(id: string, row: PluginRow | undefined): PluginInfo {
    const found = this.discovered.get(id);
    const manifest = found?.manifest ?? null;
    const base = {
      id,
      name: manifest?.name ?? id,
      version: manifest?.version ?? null,
      installedVersion: row?.version ?? null,
      enabled: row?.enabled ?? false,
      requires: manifest?.requires ?? {},
    };
    if (!found) return { ...base, state: 'missing', errorCode: PluginErrorCode.codeMissing, errorMessage: `${id} is installed but its folder is missing` };
    const problem = this.problemOf(id);
    if (problem) {
      const messages = [...found.problems, ...(this.graphProblems.has(id) ? [this.graphProblems.get(id)!] : [])].map((p) => p.message);
      return { ...base, state: 'invalid', errorCode: problem.code, errorMessage: messages.join('; ') };
    }
    if (!row?.enabled) return { ...base, state: 'disabled', errorCode: null, errorMessage: null };
    if (this.booted) {
      const failure = this.failures.get(id);
      if (failure) return { ...base, state: 'errored', errorCode: failure.code, errorMessage: failure.message };
      if (this.started.has(id)) return { ...base, state: 'enabled', errorCode: null, errorMessage: null };
    }
    // A process that does not run plugins (the CLI) reports what the running site recorded.
    if (row.state === 'errored') return { ...base, state: 'errored', errorCode: row.errorCode, errorMessage: row.errorMessage };
    return { ...base, state: 'enabled', errorCode: null, errorMessage: null };
  }
}

/**
 * Several processes may boot at once (`serve --workers N`); Knex refuses, rather than waits, when
 * another process holds a migration lock. Waiting here keeps one winner migrating and the others
 * finding nothing left to do, instead of marking the plugin errored in every loser.
 */
async function migrateWaitingForLock(knex: Knex, set: MigrationSet, attempts = 100): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateLatest(knex, set);
    } catch (error) {
      const locked = (error as { name?: string }).name === 'MigrationLocked' || /already locked/i.test(messageOf(error));
      if (!locked || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
