import type { Database } from '../../kernel/db/database';
import type { ExtensionRegistrar, JobRunner } from '../../kernel/features/context';
import type { PluginHooks } from '../../kernel/hooks/bus';
import type { ProgramsService } from '../programs/index';

/** What the assignment services use: the module's own context plus the programs service it depends on. */
export interface AssignmentContext {
  db: Database;
  hooks: PluginHooks;
  queue: JobRunner;
  extensions: ExtensionRegistrar;
  programs: ProgramsService;
  /** The site's time zone: a fixed due date typed as a day means the end of that day here. */
  timezone: string;
}
