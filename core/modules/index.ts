import type { ModuleDefinition } from '../kernel/features/module';
import { assignmentModule } from './assignment/index';
import { learnerViewsModule } from './learner-views/index';
import { learningModule } from './learning/index';
import { launchModule } from './launch/index';
import { peopleModule } from './people/index';
import { programsModule } from './programs/index';

/** The site's own features; the kernel registers them in dependency order. */
export const coreModules: readonly ModuleDefinition[] = [
  peopleModule,
  learningModule,
  programsModule,
  assignmentModule,
  launchModule,
  learnerViewsModule,
] as unknown as readonly ModuleDefinition[];
