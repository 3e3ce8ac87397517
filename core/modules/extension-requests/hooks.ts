import type { EventHook } from '../../kernel/hooks/hook-map';

/** A learner asked for a later due date (`afterExtensionRequested`, event). */
export interface ExtensionRequestedArgs {
  requestId: number;
  programId: number;
  userId: number;
}

/** A manager (or an administrator) approved or declined a request (`afterExtensionDecided`, event). */
export interface ExtensionDecidedArgs extends ExtensionRequestedArgs {
  decision: 'approved' | 'declined';
}

/** Both are events: what follows a request or a decision (mail, reports) happens after it committed. */
declare module '../../kernel/hooks/hook-map' {
  interface HookMap {
    afterExtensionRequested: EventHook<ExtensionRequestedArgs>;
    afterExtensionDecided: EventHook<ExtensionDecidedArgs>;
  }
}

/** The hooks this module declares, with their kinds. */
export const extensionRequestHooks = {
  afterExtensionRequested: 'event',
  afterExtensionDecided: 'event',
} as const;
