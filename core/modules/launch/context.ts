import type { Database } from '../../kernel/db/database';
import type { PageAccess, SessionAccess } from '../../kernel/features/kernel-services';
import type { PluginHooks } from '../../kernel/hooks/bus';

/** What the launch code uses: the module's database and hooks, and the kernel's page and session access. */
export interface LaunchContext {
  db: Database;
  hooks: PluginHooks;
  pages: PageAccess;
  sessions: SessionAccess;
}
