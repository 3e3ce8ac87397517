import fs from 'node:fs';
import path from 'node:path';
import Handlebars, { type HelperDelegate, type HelperOptions } from 'handlebars';
import { DateTime } from 'luxon';
import type { Logger } from '../logging';
import { WaymarkError } from '../errors';
import type { ThemeRegistrar } from './types';
import { CORE_STRINGS } from './strings';

type HandlebarsEnv = typeof Handlebars;
type Template = (context: unknown, options?: { data?: Record<string, unknown> }) => string;

/** themes/<name>/theme.json */
export interface ThemeManifest {
  name: string;
  /** The only parent supported is `default`, whose files every theme falls back to. */
  parent?: 'default';
}

export interface ThemeEngineOptions {
  /** Folder holding one folder per theme; must contain `default/`. */
  themesDir: string;
  /** Theme to use until setTheme() says otherwise. */
  theme: string;
  logger: Logger;
}

export interface RenderOptions {
  /** Layout from `layouts/`; default `main`; false renders the template alone. */
  layout?: string | false;
}

/** One theme, loaded and compiled once; thrown away when owners or the theme change. */
interface LoadedTheme {
  name: string;
  hb: HandlebarsEnv;
  templates: Map<string, Template>;
  layouts: Map<string, Template>;
  strings: Record<string, string>;
}

interface OwnerContributions {
  helpers: Map<string, HelperDelegate>;
  partials: Map<string, string>;
  /** Slot name -> the owner's partials shown there, in registration order. */
  slots: Map<string, string[]>;
}

const THEME_NAME = /^[a-z][a-z0-9_-]*$/;
const CONTRIBUTION_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
export const DEFAULT_THEME = 'default';

/**
 * Renders pages with the active theme. Each theme gets its own `Handlebars.create()` so helpers
 * and partials never leak between themes; the default theme's files are the fallback for every
 * view, partial and layout a theme does not override. A theme that cannot be loaded is replaced
 * by `default` with a logged error, so a bad theme choice never takes the site down.
 */
export class ThemeEngine {
  private readonly themesDir: string;
  private readonly logger: Logger;
  private theme: string;
  private readonly owners = new Map<string, OwnerContributions>();
  private readonly loaded = new Map<string, LoadedTheme>();

  constructor(options: ThemeEngineOptions) {
    this.themesDir = path.resolve(options.themesDir);
    this.theme = options.theme;
    this.logger = options.logger;
  }

  /** Lets core or a plugin add helpers (`<owner>_<name>`) and partials (`<owner>/<name>`). */
  registrarFor(owner: string): ThemeRegistrar {
    const contributions = (): OwnerContributions => {
      let entry = this.owners.get(owner);
      if (!entry) {
        entry = { helpers: new Map(), partials: new Map(), slots: new Map() };
        this.owners.set(owner, entry);
      }
      return entry;
    };
    return {
      helper: (name, fn) => {
        checkContributionName(owner, name);
        contributions().helpers.set(name, fn);
        this.invalidate();
      },
      partial: (name, template) => {
        checkContributionName(owner, name);
        try {
          // Parse now so a broken partial fails the plugin's register(), not some later page view.
          Handlebars.parse(template);
        } catch (error) {
          throw new WaymarkError('THEME_PARTIAL_INVALID', `Partial ${owner}/${name} does not compile: ${(error as Error).message}`, 400);
        }
        contributions().partials.set(name, template);
        this.invalidate();
      },
      slot: (slot, name) => {
        checkContributionName(owner, name);
        const list = contributions().slots.get(slot) ?? [];
        if (!list.includes(name)) contributions().slots.set(slot, [...list, name]);
        this.invalidate();
      },
    };
  }

  /** Forgets everything an owner contributed (plugin disabled). */
  removeOwner(owner: string): void {
    if (this.owners.delete(owner)) this.invalidate();
  }

  /** Switches theme at runtime; an unusable theme is reported and `default` is used instead. */
  setTheme(name: string): void {
    if (name === this.theme) return;
    this.theme = name;
    this.invalidate();
  }

  /** The theme chosen (which may be falling back to `default`; see effectiveTheme()). */
  activeTheme(): string {
    return this.theme;
  }

  /** The theme actually rendering pages: the chosen one, or `default` if it failed to load. */
  effectiveTheme(): string {
    return this.load().name;
  }

  /** Themes present in themesDir (folders with a theme.json), for the admin theme picker. */
  listThemes(): string[] {
    if (!fs.existsSync(this.themesDir)) return [];
    return fs
      .readdirSync(this.themesDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && THEME_NAME.test(d.name) && fs.existsSync(path.join(this.themesDir, d.name, 'theme.json')))
      .map((d) => d.name)
      .sort();
  }

  /**
   * Renders `templates/<view>.hbs` (or a plugin partial named `<owner>/<name>`) inside a layout.
   * `{{ }}` escapes every value, so user data in `data` is safe to pass as is.
   */
  render(view: string, data: Record<string, unknown> = {}, options: RenderOptions = {}): string {
    const theme = this.load();
    let template = theme.templates.get(view);
    if (!template && view.includes('/') && theme.hb.partials[view] !== undefined) {
      template = theme.hb.compile(`{{> ${JSON.stringify(view)} }}`, { strict: false }) as Template;
      theme.templates.set(view, template);
    }
    if (!template) throw new WaymarkError('THEME_VIEW_NOT_FOUND', `No template "${view}" in theme ${theme.name}`, 500);
    const context = { ...data, theme: theme.name };
    const body = template(context);
    const layoutName = options.layout === undefined ? 'main' : options.layout;
    if (layoutName === false) return body;
    const layout = theme.layouts.get(layoutName);
    if (!layout) throw new WaymarkError('THEME_VIEW_NOT_FOUND', `No layout "${layoutName}" in theme ${theme.name}`, 500);
    // body is HTML the theme produced from escaped data, hence the one triple-stash in the layout.
    return layout({ ...context, body });
  }

  /** Drops compiled themes; the next render rebuilds them. */
  private invalidate(): void {
    this.loaded.clear();
  }

  private load(): LoadedTheme {
    const wanted = this.theme;
    const cached = this.loaded.get(wanted);
    if (cached) return cached;
    let theme: LoadedTheme;
    try {
      theme = this.build(wanted);
    } catch (error) {
      if (wanted === DEFAULT_THEME) throw error;
      this.logger.error('theme failed to load; falling back to default', {
        theme: wanted,
        code: error instanceof WaymarkError ? error.code : 'THEME_INVALID',
        error: (error as Error).message,
      });
      theme = this.loaded.get(DEFAULT_THEME) ?? this.build(DEFAULT_THEME);
      this.loaded.set(DEFAULT_THEME, theme);
    }
    // Cached under the wanted name too, so a broken theme is reported once, not on every page.
    this.loaded.set(wanted, theme);
    return theme;
  }

  private build(name: string): LoadedTheme {
    if (!THEME_NAME.test(name)) throw new WaymarkError('THEME_NAME_INVALID', `Theme name "${name}" is not valid`, 400);
    const dirs = name === DEFAULT_THEME ? [this.themeDir(DEFAULT_THEME)] : [this.themeDir(DEFAULT_THEME), this.themeDir(name)];
    for (const dir of dirs) readManifest(dir);
    const hb = Handlebars.create();
    const strings: Record<string, string> = { ...CORE_STRINGS };
    registerCoreHelpers(hb, strings);
    const templates = new Map<string, Template>();
    const layouts = new Map<string, Template>();
    // Later folders override earlier ones: default first, then the theme itself.
    for (const dir of dirs) {
      for (const [partName, source] of readHbs(path.join(dir, 'partials'))) hb.registerPartial(partName, checkedSource(name, `partials/${partName}`, source));
      for (const [view, source] of readHbs(path.join(dir, 'templates'))) templates.set(view, compile(hb, name, `templates/${view}`, source));
      for (const [layout, source] of readHbs(path.join(dir, 'layouts'))) layouts.set(layout, compile(hb, name, `layouts/${layout}`, source));
      const stringsFile = path.join(dir, 'strings.json');
      if (fs.existsSync(stringsFile)) Object.assign(strings, readJson(stringsFile, 'THEME_STRINGS_INVALID') as Record<string, string>);
    }
    const slots = new Map<string, HandlebarsTemplateDelegate[]>();
    for (const [owner, c] of this.owners) {
      for (const [helperName, fn] of c.helpers) hb.registerHelper(`${owner}_${helperName}`, fn);
      for (const [partName, source] of c.partials) hb.registerPartial(`${owner}/${partName}`, source);
      for (const [slot, names] of c.slots)
        for (const partName of names) {
          const source = c.partials.get(partName);
          if (source !== undefined) slots.set(slot, [...(slots.get(slot) ?? []), hb.compile(source)]);
        }
    }
    // {{slot "name"}}: every partial features put in that slot, rendered with the page's context.
    hb.registerHelper('slot', function (this: unknown, slot: string, options: Handlebars.HelperOptions) {
      return new hb.SafeString((slots.get(slot) ?? []).map((template) => template(this, { data: options.data })).join(''));
    });
    return { name, hb, templates, layouts, strings };
  }

  private themeDir(name: string): string {
    const dir = path.join(this.themesDir, name);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new WaymarkError('THEME_NOT_FOUND', `Theme folder ${dir} does not exist`, 404);
    return dir;
  }
}

function checkContributionName(owner: string, name: string): void {
  if (!CONTRIBUTION_NAME.test(name)) throw new WaymarkError('THEME_NAME_INVALID', `${owner}: "${name}" is not a valid helper or partial name`, 400);
}

function readJson(file: string, code: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new WaymarkError(code, `${file}: ${(error as Error).message}`, 400);
  }
}

function readManifest(dir: string): ThemeManifest {
  const manifest = readJson(path.join(dir, 'theme.json'), 'THEME_MANIFEST_INVALID') as Partial<ThemeManifest> | null;
  const folder = path.basename(dir);
  if (
    !manifest ||
    typeof manifest !== 'object' ||
    manifest.name !== folder ||
    (manifest.parent !== undefined && manifest.parent !== DEFAULT_THEME) ||
    Object.keys(manifest).some((k) => k !== 'name' && k !== 'parent')
  ) {
    throw new WaymarkError('THEME_MANIFEST_INVALID', `${dir}/theme.json must be {"name": "${folder}", "parent"?: "default"}`, 400);
  }
  return manifest as ThemeManifest;
}

/** `name -> source` for every `*.hbs` under dir, nested folders giving `a/b` names. */
function readHbs(dir: string, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) for (const [k, v] of readHbs(path.join(dir, entry.name), `${prefix}${entry.name}/`)) out.set(k, v);
    else if (entry.name.endsWith('.hbs')) out.set(prefix + entry.name.slice(0, -4), fs.readFileSync(path.join(dir, entry.name), 'utf8'));
  }
  return out;
}

function checkedSource(theme: string, file: string, source: string): string {
  try {
    Handlebars.parse(source);
  } catch (error) {
    throw new WaymarkError('THEME_TEMPLATE_INVALID', `Theme ${theme}: ${file}.hbs does not compile: ${(error as Error).message}`, 400);
  }
  return source;
}

function compile(hb: HandlebarsEnv, theme: string, file: string, source: string): Template {
  // Handlebars compiles lazily; parsing first surfaces syntax errors while the theme loads.
  return hb.compile(checkedSource(theme, file, source)) as Template;
}

function toDateTime(value: unknown): DateTime | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number') return DateTime.fromMillis(value, { zone: 'utc' });
  if (value instanceof Date) return DateTime.fromJSDate(value, { zone: 'utc' });
  if (typeof value === 'string') {
    const dt = /^\d+$/.test(value) ? DateTime.fromMillis(Number(value), { zone: 'utc' }) : DateTime.fromISO(value, { zone: 'utc' });
    return dt.isValid ? dt : null;
  }
  return null;
}

const LUXON_PRESETS: Record<string, Intl.DateTimeFormatOptions> = {
  date: DateTime.DATE_MED,
  datetime: DateTime.DATETIME_MED,
  full: DateTime.DATETIME_FULL,
  time: DateTime.TIME_SIMPLE,
};

function registerCoreHelpers(hb: HandlebarsEnv, strings: Record<string, string>): void {
  /**
   * `{{formatDate value [format="date"|"datetime"|"full"|"time"|luxon-pattern] [tz=...]}}`. The zone
   * defaults to the viewer's (`user.timezone` in the page data), then UTC.
   */
  hb.registerHelper('formatDate', function formatDate(this: unknown, value: unknown, options: HelperOptions) {
    const dt = toDateTime(value);
    if (!dt) return '';
    const hash = (options?.hash ?? {}) as { format?: string; tz?: string; lang?: string };
    const root = (options?.data?.root ?? {}) as { user?: { timezone?: string; lang?: string } | null; lang?: string };
    const zone = hash.tz ?? root.user?.timezone ?? 'UTC';
    const locale = hash.lang ?? root.user?.lang ?? root.lang ?? 'en';
    let local: DateTime = dt.setZone(zone).setLocale(locale);
    if (!local.isValid) local = dt.setLocale(locale);
    const format = hash.format ?? 'date';
    const preset = LUXON_PRESETS[format];
    return preset ? local.toLocaleString(preset) : local.toFormat(format);
  });
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('not', (a: unknown) => !a);
  /** `{{t "key" name=value}}`: a site string with `{name}` placeholders; escaped like any value. */
  hb.registerHelper('t', (key: unknown, options: HelperOptions) => {
    const template = strings[String(key)] ?? String(key);
    const hash = (options?.hash ?? {}) as Record<string, unknown>;
    return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in hash ? String(hash[name]) : whole));
  });
}
