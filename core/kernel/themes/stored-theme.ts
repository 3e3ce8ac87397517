import type { Database } from '../db/database';
import type { Logger } from '../logging';
import type { ThemeEngine } from './engine';

/** site_config key holding the operator's theme choice (wins over the WAYMARK_THEME default). */
export const THEME_SETTING_KEY = 'theme';

/** The theme recorded in site_config, or undefined when the operator has not chosen one. */
export async function readStoredTheme(db: Database): Promise<string | undefined> {
  const row = (await db.knex('site_config').where({ name: THEME_SETTING_KEY }).first('value')) as { value: string } | undefined;
  return row?.value || undefined;
}

/**
 * Keeps one process's theme engine on the theme recorded in the database, so a switch made on any
 * process (the admin page, another server) shows on every process within one poll interval, like
 * plugin state (WAYMARK_PLUGIN_POLL_MS). Each poll is one primary-key read; the engine only
 * rebuilds when the name actually changes. No choice recorded means the configured default theme.
 */
export class StoredThemeWatcher {
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly db: Database,
    private readonly themes: ThemeEngine,
    /** The configured theme (WAYMARK_THEME), used while the database records no choice. */
    private readonly fallback: string,
    private readonly logger: Logger,
  ) {}

  /** Applies the stored choice (or the configured default) to this process now. */
  async refresh(): Promise<void> {
    this.themes.setTheme((await readStoredTheme(this.db)) ?? this.fallback);
  }

  /** Polls every `intervalMs` until stop(); the timer never keeps the process alive on its own. */
  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.polling) return;
      this.polling = true;
      this.refresh()
        .catch((error: unknown) => this.logger.error('theme refresh failed', { error: String(error) }))
        .finally(() => {
          this.polling = false;
        });
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
