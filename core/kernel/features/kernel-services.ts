import type { Request, Response } from 'express';
import type { KnexSessionStore } from '../auth/sessions';
import type { SessionSecret } from '../auth/session-secret';
import type { AuthUser, Credential } from '../http/routes';
import type { Executor } from '../db/database';
import type { SqlView } from '../db/views';
import type { JobState } from '../jobs/types';
import type { PageRenderOptions } from '../http/request';
import { createServiceRef } from './services';

/** Page plumbing for features that answer outside the route table (pipeline stages). */
export interface PageAccess {
  /** The signed-in user of a page request (session, or a bearer token), or null. */
  resolveUser(req: Request): Promise<AuthUser | null>;
  /** Renders a view of the active theme into the response. */
  render(req: Request, res: Response, view: string, data?: Record<string, unknown>, options?: PageRenderOptions): void;
}

/** The session store and signing secret, for a hot path that reads a session without express-session. */
export interface SessionAccess {
  readonly store: KnexSessionStore;
  /** SESSION_SECRET, or the one generated once and stored in the database: every process agrees. */
  readonly secret: SessionSecret;
}

/**
 * Who may sign in: a port the kernel's login defines and the people module (which owns users)
 * provides, so the kernel never reaches into a module.
 */
export interface IdentityProvider {
  findByUsername(username: string): Promise<{ id: number; suspended: boolean; deleted: boolean } | null>;
  passwordHash(userId: number): Promise<string | null>;
  recordLogin(userId: number): Promise<unknown>;
  /** Whether a user with this id exists (deleted ones included), for routes that act on a user's credentials. */
  exists(userId: number): Promise<boolean>;
  /** The users relation, for the statement that resolves a session's user in one round trip. */
  readonly usersView: SqlView<'id' | 'username' | 'fullname' | 'is_admin' | 'lang' | 'timezone' | 'suspended' | 'deleted'>;
  /**
   * Serialises work per learner until `executor`'s transaction ends: completion and recompute lock
   * the learners first, so two concurrent transactions for one learner cannot both miss the other.
   */
  lockLearners(executor: Executor, userIds: readonly number[]): Promise<void>;
}

/**
 * Ends a user's sign-ins: a port the kernel (which owns sessions and API tokens) provides and the
 * people module calls when a password changes or a user is suspended or deleted, inside that
 * change's transaction, so the credentials and the change commit or roll back together.
 */
export interface CredentialRevoker {
  /**
   * Deletes every session and API token of `userId` in `executor`, except `keep` (the credential
   * making the change): it only survives when it is that user's own.
   */
  endAll(executor: Executor, userId: number, keep?: Credential | null): Promise<{ sessions: number; tokens: number }>;
}

/** The platform's state, for status pages and monitoring plugins. */
export interface PlatformStatus {
  /** Plugins enabled and running. */
  enabledPlugins(): Promise<number>;
  /** Jobs in each state of the queue. */
  jobsByState(): Promise<Record<JobState, number>>;
}

/** Services the kernel itself provides (pages, sessions) or defines for a module to provide (identity). */
export const kernelServices = {
  platform: createServiceRef<PlatformStatus>('core.platform'),
  identity: createServiceRef<IdentityProvider>('core.identity'),
  credentials: createServiceRef<CredentialRevoker>('core.credentials'),
  pages: createServiceRef<PageAccess>('core.pages'),
  sessions: createServiceRef<SessionAccess>('core.sessions'),
};
