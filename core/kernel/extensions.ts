import { WaymarkError } from './errors';

/**
 * Typed extension points: registries that plugins contribute named entries to (assignment
 * sources, due-date events, restriction conditions, notification channels, ...). Open to
 * declaration merging like the hook map:
 *
 * ```ts
 * declare module '../../core/kernel/extensions' {
 *   interface ExtensionPointMap { assignmentSources: AssignmentSource }
 * }
 * ```
 */
export interface ExtensionPointMap {
  /** Where notifications go (the notify_program plugin contributes `email` and `inapp`). */
  notificationChannels: NotificationChannel;
  /** Panels of the administration dashboard, /admin (the reports module contributes saved reports). */
  dashboardPanels: DashboardPanel;
}

/** One line of a dashboard panel: a link, with a figure and a hint when there is one. */
export interface DashboardEntry {
  label: string;
  href: string;
  /** The number to show large ("12"). */
  figure?: string;
  hint?: string;
}

/** A titled list of links on the administration dashboard, read each time the page is shown. */
export interface DashboardPanel {
  title: string;
  /** Shown when the panel has no entries ("Save a report with “Show on the dashboard”"). */
  empty: string;
  /** Lower first; panels with the same order by title. Default 100. */
  order?: number;
  /** A link under the panel ("All saved reports"). */
  more?: { href: string; label: string };
  /** Must stay cheap: the dashboard is every operator's front page. */
  entries(): Promise<DashboardEntry[]>;
}

/** One rendered notification for one recipient, as a notification channel receives it. */
export interface OutgoingNotification {
  /**
   * The delivery's dedupe key (message, learner, course set, cycle, recipient), the same on every
   * retry: a channel whose medium can deduplicate uses it (email derives its Message-ID from it).
   */
  key: string;
  deliveryId: number;
  /** The message type: `assigned`, `program_due`, `exception_report`, ... */
  type: string;
  programId: number;
  recipient: { id: number; email: string; fullname: string; lang: string; timezone: string };
  subject: string;
  /** The body as plain text. */
  text: string;
  /** The same body as HTML, every character of it escaped. */
  html: string;
}

/** A notification channel: email, in-app, or whatever a plugin contributes (SMS, chat...). */
export interface NotificationChannel {
  /** Shown to operators and in users' preferences ("Email"). */
  label: string;
  /** One sentence for the operator about where messages go now ("logged, not sent: SMTP_URL is not set"). */
  describe(): string;
  /**
   * Delivers one notification; throw to have it retried (with backoff, up to a limit). Called after
   * the state change committed, at least once per delivery: be idempotent on `key` where you can.
   */
  send(notification: OutgoingNotification): Promise<void>;
  /**
   * Called when the sender has handed over a batch: a channel that pools connections or buffers
   * releases or delivers them here. Optional.
   */
  flush?(): Promise<void>;
}

export type ExtensionPointName = keyof ExtensionPointMap & string;

export interface Contribution<T> {
  key: string;
  plugin: string;
  value: T;
}

export class ExtensionRegistry {
  private readonly points = new Map<string, Map<string, Contribution<unknown>>>();

  /** Adds `value` under `key`; a key is owned by one plugin at a time. */
  contribute<P extends ExtensionPointName>(plugin: string, point: P, key: string, value: ExtensionPointMap[P]): () => void {
    const entries = this.points.get(point) ?? new Map<string, Contribution<unknown>>();
    const existing = entries.get(key);
    if (existing && existing.plugin !== plugin) {
      throw new WaymarkError('EXTENSION_KEY_TAKEN', `${point} "${key}" is already contributed by ${existing.plugin}`, 409);
    }
    entries.set(key, { key, plugin, value });
    this.points.set(point, entries);
    return () => {
      if (entries.get(key)?.plugin === plugin) entries.delete(key);
    };
  }

  get<P extends ExtensionPointName>(point: P, key: string): Contribution<ExtensionPointMap[P]> | undefined {
    return this.points.get(point)?.get(key) as Contribution<ExtensionPointMap[P]> | undefined;
  }

  list<P extends ExtensionPointName>(point: P): Contribution<ExtensionPointMap[P]>[] {
    return [...(this.points.get(point)?.values() ?? [])] as Contribution<ExtensionPointMap[P]>[];
  }

  /** Everything a plugin contributed, e.g. for the admin page. */
  contributionsOf(plugin: string): Array<{ point: string; key: string }> {
    const out: Array<{ point: string; key: string }> = [];
    for (const [point, entries] of this.points) for (const c of entries.values()) if (c.plugin === plugin) out.push({ point, key: c.key });
    return out;
  }

  removePlugin(plugin: string): void {
    for (const entries of this.points.values()) for (const [key, c] of entries) if (c.plugin === plugin) entries.delete(key);
  }
}
