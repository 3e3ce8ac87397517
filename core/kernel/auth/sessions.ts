import crypto from 'node:crypto';
import session, { Store, type SessionData } from 'express-session';
import type { Request, RequestHandler } from 'express';
import type { Database, Executor } from '../db/database';
import type { JobQueue } from '../jobs/queue';
import type { AuthUser } from '../http/routes';
import { prepareStatement, type PreparedStatement, type StatementBinding } from '../db/statements';
import type { SqlView } from '../db/views';
import { readPage, type KeysetOrder, type KeysetPage, type PagePosition } from '../db/keyset';
import { SessionSecret } from './session-secret';

declare module 'express-session' {
  interface SessionData {
    /** The signed-in user; absent for an anonymous session (which exists only to hold a CSRF token). */
    userId?: number;
    /** Epoch ms of the login that created this session. */
    loginAt?: number;
  }
}

/** Name of the session cookie. */
export const SESSION_COOKIE = 'waymark.sid';
/**
 * Lifetime of a session from sign-in (the cookie's Max-Age). The stored row's expiry follows
 * activity (KnexSessionStore.touch) so it never ends before the cookie does.
 */
export const SESSION_MAX_AGE_MS = 8 * 60 * 60 * 1000;
/** Name of the scheduled job that deletes expired sessions. */
export const SESSION_CLEANUP_JOB = 'core.sessions_cleanup';
/**
 * A touch that would move the stored expiry by less than this is skipped: keeping the row's
 * expiry current then costs one write a minute per active session instead of one per request.
 */
const TOUCH_RESOLUTION_MS = 60_000;
/** Bound on the per-process memo of stored expiries (a cache, so losing it only costs a write). */
const EXPIRY_MEMO_LIMIT = 50_000;
const CLEANUP_BATCH = 1000;
/** A user's sessions, most recently active first (the expiry slides with activity); the sid breaks ties. */
export const SESSIONS_NEWEST: KeysetOrder = {
  name: 'active',
  keys: [
    { column: 'expires_at', direction: 'desc' },
    { column: 'sid', direction: 'desc' },
  ],
};

/** One of a user's sessions, for their "sessions and tokens" page. */
export interface UserSessionInfo {
  sid: string;
  /** Names the session in a form without revealing the sid, which is as good as the password. */
  handle: string;
  /** Epoch ms of the sign-in; null for a session without one. */
  createdAt: number | null;
  /** Epoch ms, to the minute. */
  lastSeenAt: number;
  expiresAt: number;
}

type Callback<T = void> = (err: unknown, value?: T) => void;

/** A stable, non-secret name for a session: a hash of its id. */
function sessionHandle(sid: string): string {
  return crypto.createHash('sha256').update(`session-handle:${sid}`).digest('base64url').slice(0, 22);
}

function expiryOf(data: SessionData, now: number): number {
  const expires = data.cookie?.expires;
  if (expires) return new Date(expires).getTime();
  return now + (data.cookie?.maxAge ?? SESSION_MAX_AGE_MS);
}

/**
 * An express-session store backed by the `sessions` table, so a session created by one server
 * process is valid in every other one. Reads are one primary-key lookup; expired rows are never
 * returned and are deleted by the {@link SESSION_CLEANUP_JOB} schedule.
 */
export class KnexSessionStore extends Store {
  private readonly storedExpiry = new Map<string, number>();
  private readonly upsertSql: string;
  private select?: PreparedStatement<SessionUserRow & { data: string; expires_at: number | string; u_id: number | null }>;
  private readonly slide: PreparedStatement<never>;
  /** Users read with their session by get(), until SiteSessions.userOf() in the same request takes them. */
  private readonly loadedUsers = new Map<string, AuthUser | null>();

  /** `users` is the identity port's users view, asked for on first use (people registers after the kernel). */
  constructor(
    private readonly db: Database,
    private readonly users: () => SqlView,
  ) {
    super();
    this.slide = prepareStatement(db, 'UPDATE sessions SET expires_at = ? WHERE sid = ?');
    this.upsertSql =
      db.dialect === 'mysql'
        ? 'INSERT INTO sessions (sid, user_id, data, expires_at) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE user_id = VALUES(user_id), data = VALUES(data), expires_at = VALUES(expires_at)'
        : 'INSERT INTO sessions (sid, user_id, data, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (sid) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, expires_at = excluded.expires_at';
  }

  /**
   * The session `sid` and its user, while active (so suspension signs people out at once), in one
   * prepared primary-key lookup, with `extraColumns` (SQL over `u`, the user; their bindings come
   * first) in the same row.
   */
  private sessionUserSql(columns: string): string {
    return `SELECT ${columns}, s.expires_at, u.id AS u_id, u.username, u.fullname, u.is_admin, u.lang, u.timezone
              FROM sessions s LEFT JOIN ${this.users().as('u')} ON u.id = s.user_id AND u.suspended = 0 AND u.deleted = 0
             WHERE s.sid = ?`;
  }

  /**
   * A prepared lookup of an active signed-in user by session id, without loading the session data,
   * with `extraColumns` computed in the same statement: SQL select items that may refer to `u.id`
   * (the user), their bindings passed first. Null when the session is unknown, expired, anonymous,
   * or its user is suspended or deleted. For a hot path (the course launch) that asks one more
   * question about the user before anything else: one round trip answers both.
   */
  activeUserLookup<X extends object>(
    extraColumns: string,
  ): (sid: string, bindings: readonly StatementBinding[]) => Promise<{ user: AuthUser; extra: X } | null> {
    let statement: PreparedStatement<SessionUserRow & X & { expires_at: number | string; u_id: number | null }> | undefined;
    return async (sid, bindings) => {
      statement ??= prepareStatement(this.db, this.sessionUserSql(extraColumns));
      const row = (await statement.all([...bindings, sid]))[0];
      if (!row || Number(row.expires_at) <= this.db.now() || row.u_id === null) return null;
      this.remember(sid, Number(row.expires_at));
      return { user: toAuthUser(row), extra: row };
    };
  }

  override get(sid: string, callback: Callback<SessionData | null>): void {
    this.select ??= prepareStatement(this.db, this.sessionUserSql('s.data'));
    this.select
      .all([sid])
      .then((rows) => {
        const row = rows[0];
        if (!row || Number(row.expires_at) <= this.db.now()) return callback(null, null);
        this.remember(sid, Number(row.expires_at));
        if (this.loadedUsers.size >= EXPIRY_MEMO_LIMIT) this.loadedUsers.clear();
        this.loadedUsers.set(sid, row.u_id === null ? null : toAuthUser(row));
        callback(null, JSON.parse(row.data) as SessionData);
      })
      .catch((error: unknown) => callback(error));
  }

  /**
   * The user row read together with session `sid` by the latest get() (null: none or inactive),
   * handed over once; undefined when this process has not just read that session.
   */
  takeLoadedUser(sid: string): AuthUser | null | undefined {
    const user = this.loadedUsers.get(sid);
    this.loadedUsers.delete(sid);
    return user;
  }

  /**
   * Saves a session. One this process has read or written before is only updated: a request that
   * was in flight while the session was ended (a password change, "log out everywhere") must not
   * bring it back when express-session saves it at the end of that request. Only a session new to
   * this process (a sign-in, the first CSRF token) is inserted.
   */
  override set(sid: string, data: SessionData, callback?: Callback): void {
    const expiresAt = expiryOf(data, this.db.now());
    const write = this.storedExpiry.has(sid)
      ? this.db
          .knex('sessions')
          .where({ sid })
          .update({ user_id: data.userId ?? null, data: JSON.stringify(data), expires_at: expiresAt })
      : this.db.knex.raw(this.upsertSql, [sid, data.userId ?? null, JSON.stringify(data), expiresAt]);
    write
      .then(() => {
        this.remember(sid, expiresAt);
        callback?.(null);
      })
      .catch((error: unknown) => callback?.(error));
  }

  override destroy(sid: string, callback?: Callback): void {
    this.storedExpiry.delete(sid);
    this.db
      .knex('sessions')
      .where({ sid })
      .delete()
      .then(() => callback?.(null))
      .catch((error: unknown) => callback?.(error));
  }

  override touch(sid: string, data: SessionData, callback?: () => void): void {
    const expiresAt = expiryOf(data, this.db.now());
    const known = this.storedExpiry.get(sid);
    if (known !== undefined && expiresAt - known < TOUCH_RESOLUTION_MS) {
      callback?.();
      return;
    }
    // Prepared: launches of a learner's first minute each slide their session once.
    this.slide
      .run([expiresAt, sid])
      .then(() => this.remember(sid, expiresAt))
      .catch(() => undefined)
      .finally(() => callback?.());
  }

  /** Slides the session's stored expiry as a request through express-session would (at most one write a minute). */
  slideExpiry(sid: string): Promise<void> {
    return new Promise((resolve) => this.touch(sid, { cookie: { expires: new Date(this.db.now() + SESSION_MAX_AGE_MS) } } as SessionData, resolve));
  }

  /** Deletes expired sessions in batches; returns how many went. */
  async deleteExpired(now = this.db.now()): Promise<number> {
    let total = 0;
    for (;;) {
      const sids = (await this.db.knex('sessions').where('expires_at', '<=', now).limit(CLEANUP_BATCH).pluck('sid')) as string[];
      if (!sids.length) return total;
      total += await this.db.knex('sessions').whereIn('sid', sids).andWhere('expires_at', '<=', now).delete();
      if (sids.length < CLEANUP_BATCH) return total;
    }
  }

  /**
   * Signs a user out of every browser but `keepSid` (the session asking, when it is theirs), in
   * `executor` so it commits with the change that caused it (suspension, password change).
   */
  async destroyUserSessions(userId: number, options: { executor?: Executor; keepSid?: string } = {}): Promise<number> {
    const query = (options.executor ?? this.db.knex)('sessions').where({ user_id: userId });
    if (options.keepSid !== undefined) query.andWhereNot('sid', options.keepSid);
    return query.delete();
  }

  /**
   * One page of a user's unexpired sessions, most recently active first. The table keeps no separate
   * "last seen": the stored expiry slides with activity (to the minute), so it is expiry minus
   * the session lifetime.
   */
  async userSessions(userId: number, position: PagePosition): Promise<KeysetPage<UserSessionInfo>> {
    const query = this.db.knex('sessions').where({ user_id: userId }).andWhere('expires_at', '>', this.db.now()).select('sid', 'data', 'expires_at');
    const page = await readPage<{ sid: string; data: string; expires_at: number | string }>(query, SESSIONS_NEWEST, position, (row) => [
      Number(row.expires_at),
      row.sid,
    ]);
    const items = page.items.map((row) => {
      const data = JSON.parse(row.data) as SessionData;
      const expiresAt = Number(row.expires_at);
      return {
        sid: row.sid,
        handle: sessionHandle(row.sid),
        createdAt: typeof data.loginAt === 'number' ? data.loginAt : null,
        lastSeenAt: expiresAt - SESSION_MAX_AGE_MS,
        expiresAt,
      };
    });
    return { ...page, items };
  }

  /** Ends the session of `userId` named by `handle` (from userSessions); false when there is none. */
  async destroyUserSession(userId: number, handle: string): Promise<boolean> {
    // The handle is a one-way digest of the sid: compare it with each of the user's sids (one
    // indexed read of one column, whichever page of the list the session was shown on).
    const sids = (await this.db.knex('sessions').where({ user_id: userId }).pluck('sid')) as string[];
    const sid = sids.find((candidate) => sessionHandle(candidate) === handle);
    if (sid === undefined) return false;
    await this.db.knex('sessions').where({ sid, user_id: userId }).delete();
    this.storedExpiry.delete(sid);
    return true;
  }

  private remember(sid: string, expiresAt: number): void {
    if (this.storedExpiry.size >= EXPIRY_MEMO_LIMIT) this.storedExpiry.clear();
    this.storedExpiry.set(sid, expiresAt);
  }
}

export interface SessionOptions {
  /** Marks the cookie Secure. Default: when the request arrived over https (`trust proxy` decides). */
  secure?: boolean | 'auto';
}

/**
 * The site's sessions, one object per kernel (never a module-level map): the store that the
 * middleware, the cleanup job and the launch fast path share, the signing secret every process
 * agrees on, and the prepared lookup of the signed-in user. Holds no session data itself: sessions
 * live in the database, so every process sees the same ones.
 */
export class SiteSessions {
  readonly store: KnexSessionStore;
  readonly secret: SessionSecret;
  private userLookup?: PreparedStatement<SessionUserRow>;

  /** `users`: the identity port's users view (people provides it after the kernel is built). */
  constructor(
    private readonly db: Database,
    configuredSecret: string | undefined,
    private readonly users: () => SqlView,
  ) {
    this.store = new KnexSessionStore(db, users);
    this.secret = new SessionSecret(db, configuredSecret);
  }

  /** The active user signed in on this request's session, or null (anonymous, suspended or deleted). */
  async userOf(req: Request): Promise<AuthUser | null> {
    const userId = req.session?.userId;
    if (typeof userId !== 'number') return null;
    const preloaded = this.store.takeLoadedUser(req.sessionID);
    if (preloaded !== undefined && (preloaded === null || preloaded.id === userId)) return preloaded;
    // Read on every request rather than kept in the session, so suspending a user signs them out at once.
    this.userLookup ??= prepareStatement<SessionUserRow>(
      this.db,
      `SELECT id, username, fullname, is_admin, lang, timezone FROM ${this.users().as('u')} WHERE id = ? AND suspended = 0 AND deleted = 0`,
    );
    const row = (await this.userLookup.all([userId]))[0];
    return row ? toAuthUser(row) : null;
  }
}

/**
 * The session middleware: HttpOnly, SameSite=Lax cookie signed with the site's secret
 * (SESSION_SECRET, or the one stored in the database: see {@link SessionSecret}), Secure whenever
 * the request came over https. Sessions are only written once something is put in them (a login
 * or a CSRF token), so anonymous page views cost no write. express-session is built on the first
 * request, once the secret has been read.
 */
export function createSessionMiddleware(site: { sessions: SiteSessions }, options: SessionOptions = {}): RequestHandler {
  const { secret, store } = site.sessions;
  let middleware: RequestHandler | undefined;
  const build = (value: string): RequestHandler =>
    session({
      name: SESSION_COOKIE,
      secret: value,
      store,
      resave: false,
      saveUninitialized: false,
      rolling: false,
      unset: 'destroy',
      cookie: { httpOnly: true, sameSite: 'lax', secure: options.secure ?? 'auto', maxAge: SESSION_MAX_AGE_MS, path: '/' },
    });
  return (req, res, next) => {
    if (middleware) return middleware(req, res, next);
    secret.get().then((value) => {
      middleware ??= build(value);
      middleware(req, res, next);
    }, next);
  };
}

/** Declares the cleanup job and its schedule (every 15 minutes) on the site's queue. */
export function registerSessionCleanup(site: { jobs: JobQueue; sessions: SiteSessions }): void {
  const registrar = site.jobs.registrarFor('core');
  registrar.define({
    name: SESSION_CLEANUP_JOB,
    handler: async () => ({ deleted: await site.sessions.store.deleteExpired() }),
  });
  registrar.schedule({ name: SESSION_CLEANUP_JOB, cron: '*/15 * * * *', job: SESSION_CLEANUP_JOB });
}

interface SessionUserRow {
  id?: number;
  u_id?: number | null;
  username: string;
  fullname: string;
  is_admin: number | boolean;
  lang: string;
  timezone: string;
}

function toAuthUser(row: SessionUserRow): AuthUser {
  return {
    id: Number(row.u_id ?? row.id),
    username: row.username,
    fullname: row.fullname,
    isAdmin: Boolean(row.is_admin),
    lang: row.lang,
    timezone: row.timezone,
  };
}
