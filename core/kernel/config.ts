import path from 'node:path';
import { Ajv } from 'ajv';
import { isTimeZone } from './dates';
import { WaymarkError } from './errors';

/** Site configuration, read from the environment once at boot and validated. */
export interface SiteConfig {
  /** `sqlite:./data/waymark.sqlite` (default) or `mysql://user:pass@host:port/db`. */
  databaseUrl: string;
  port: number;
  logLevel: string;
  /** Folder that holds `plugins/<id>/plugin.json`. */
  pluginsDir: string;
  /** Folder that holds `themes/<name>/`. */
  themesDir: string;
  /** Theme used when the database has no choice recorded. */
  theme: string;
  /**
   * Secret used to sign session cookies (SESSION_SECRET). Unset: the site's own secret, generated
   * once and stored in the database, so every process and every restart agrees (core/auth/session-secret.ts).
   */
  sessionSecret?: string;
  /** How often (ms) a running server re-reads plugin state changed by another process. */
  pluginPollMs: number;
  /**
   * The site's time zone (WAYMARK_TIMEZONE, IANA, default UTC): a date typed without a time means
   * the end of that day here, and a time without an offset is read here.
   */
  timezone: string;
}

const root = path.resolve(import.meta.dirname, '../..');

/** The database when DATABASE_URL is unset; its folder (./data) is created on first use. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/waymark.sqlite';

const envSchema = {
  type: 'object',
  properties: {
    DATABASE_URL: { type: 'string', pattern: '^(sqlite:|mysql://)' },
    PORT: { type: 'string', pattern: '^[0-9]{1,5}$' },
    LOG_LEVEL: { enum: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] },
    LOG_FORMAT: { enum: ['json', 'console'] },
    WAYMARK_THEME: { type: 'string', pattern: '^[a-z][a-z0-9_-]*$' },
    WAYMARK_PLUGIN_POLL_MS: { type: 'string', pattern: '^[0-9]+$' },
    SESSION_SECRET: { type: 'string', minLength: 16 },
    WAYMARK_PLUGINS_DIR: { type: 'string', minLength: 1 },
    WAYMARK_TIMEZONE: { type: 'string', minLength: 1 },
  },
} as const;

const validateEnv = new Ajv({ allErrors: true }).compile(envSchema);

/** Reads and validates configuration; a bad value stops boot with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<SiteConfig> = {}): SiteConfig {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(envSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  if (!validateEnv(picked)) {
    const details = (validateEnv.errors ?? []).map((e) => ({
      path: e.instancePath.replace(/^\//, ''),
      code: 'CONFIG_INVALID',
      message: `${e.instancePath.replace(/^\//, '')} ${e.message ?? 'is invalid'}`,
    }));
    throw new WaymarkError('CONFIG_INVALID', `Invalid configuration: ${details.map((d) => d.message).join('; ')}`, 400, details);
  }
  if (picked.WAYMARK_TIMEZONE && !isTimeZone(picked.WAYMARK_TIMEZONE)) {
    const message = `WAYMARK_TIMEZONE "${picked.WAYMARK_TIMEZONE}" is not an IANA time zone (e.g. Europe/Paris, UTC)`;
    throw new WaymarkError('CONFIG_INVALID', `Invalid configuration: ${message}`, 400, [{ path: 'WAYMARK_TIMEZONE', code: 'CONFIG_INVALID', message }]);
  }
  return {
    databaseUrl: picked.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    port: Number(picked.PORT ?? 3000),
    logLevel: picked.LOG_LEVEL ?? 'info',
    pluginsDir: picked.WAYMARK_PLUGINS_DIR ? path.resolve(picked.WAYMARK_PLUGINS_DIR) : path.join(root, 'plugins'),
    themesDir: path.join(root, 'themes'),
    theme: picked.WAYMARK_THEME ?? 'default',
    sessionSecret: picked.SESSION_SECRET,
    pluginPollMs: Number(picked.WAYMARK_PLUGIN_POLL_MS ?? 1000),
    timezone: picked.WAYMARK_TIMEZONE ?? 'UTC',
    ...overrides,
  };
}

export const projectRoot = root;
