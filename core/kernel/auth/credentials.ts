import type { CredentialRevoker } from '../features/kernel-services';
import type { KnexSessionStore } from './sessions';
import { revokeUserApiTokens } from './tokens';

/**
 * The kernel's side of the credentials port: sessions and API tokens are the kernel's tables, the
 * events that must end them (password change, suspension) are the people module's.
 */
export function createCredentialRevoker(store: KnexSessionStore): CredentialRevoker {
  return {
    async endAll(executor, userId, keep) {
      const sessions = await store.destroyUserSessions(userId, { executor, keepSid: keep?.kind === 'session' ? keep.sid : undefined });
      const tokens = await revokeUserApiTokens(executor, userId, keep?.kind === 'token' ? keep.id : undefined);
      return { sessions, tokens };
    },
  };
}
