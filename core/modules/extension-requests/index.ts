import { defineModule } from '../../kernel/features/module';
import { createServiceRef } from '../../kernel/features/services';
import { kernelServices } from '../../kernel/features/kernel-services';
import { assignmentServices } from '../assignment/index';
import { peopleServices } from '../people/index';
import { programServices } from '../programs/index';
import { extensionRequestHooks } from './hooks';
import { registerExtensionPages } from './pages';
import { extensionRequestRoutes } from './routes';
import { createExtensionRequestService, type ExtensionRequestService } from './service';

export type { ExtensionRequestedArgs, ExtensionDecidedArgs } from './hooks';
export type { ExtensionRequestService, ExtensionRequestView } from './service';

/** The extension request service, by ref. */
export const extensionRequestServices = {
  extensionRequests: createServiceRef<ExtensionRequestService>('extension-requests.extensionRequests'),
};

/**
 * Due-date extension requests (DOMAIN 9): learners ask, their managers decide, an approval moves
 * the due date through the assignment module. It owns the requests (their table is also the
 * history of decisions) and publishes an event for each request and decision.
 */
export const extensionRequestsModule = defineModule({
  id: 'extension-requests',
  tables: ['program_extension_requests'],
  deps: {
    identity: kernelServices.identity,
    assignment: assignmentServices.assignment,
    programs: programServices.programs,
    jobAssignments: peopleServices.jobAssignments,
  },
  declares: extensionRequestHooks,
  provides: extensionRequestServices,
  register(ctx) {
    const service = createExtensionRequestService({ db: ctx.db, hooks: ctx.hooks, timezone: ctx.timezone, ...ctx.deps });
    for (const route of extensionRequestRoutes(() => service)) ctx.routes.api(route);
    registerExtensionPages(() => service, ctx.deps.programs, ctx.routes);
    return { extensionRequests: service };
  },
});

/** Relations other modules and plugins may join in a set-based read (columns are the contract). */
export { extensionRequestViews } from './store/views';
