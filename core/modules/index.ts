import type { ModuleDefinition } from '../kernel/features/module';
import { assignmentModule } from './assignment/index';
import { extensionRequestsModule } from './extension-requests/index';
import { learnerViewsModule } from './learner-views/index';
import { learningModule } from './learning/index';
import { launchModule } from './launch/index';
import { peopleModule } from './people/index';
import { programsModule } from './programs/index';
import { reportsModule } from './reports/index';

/**
 * The site's own features; the kernel registers them in dependency order. The cast erases each
 * module's own deps type: `register(ctx)` takes a context typed to that module's deps, which a list
 * of modules with different deps cannot express, and the kernel resolves each module's deps itself.
 */
export const coreModules: readonly ModuleDefinition[] = [
  peopleModule,
  learningModule,
  programsModule,
  assignmentModule,
  launchModule,
  learnerViewsModule,
  extensionRequestsModule,
  reportsModule,
] as unknown as readonly ModuleDefinition[];
