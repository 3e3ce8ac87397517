import type { EventHook, WithinHook } from '../../kernel/hooks/hook-map';

/** One completion: `onCompletion` (within) gets one; `afterCompletion` (event) carries a list. */
export interface CompletionArgs {
  userId: number;
  completedAt: number;
  subject: { type: 'course'; courseId: number } | { type: 'course_set'; programId: number; courseSetId: number } | { type: 'program'; programId: number };
}

/** Completions recorded in one transaction (`afterCompletion`). */
export interface CompletionsArgs {
  completions: CompletionArgs[];
}

/**
 * `onCompletion` runs `within` the completing transaction, for courses (this module) and for course
 * sets and programs (the programs module's follow-up); `afterCompletion` is its `event` twin,
 * delivered after commit for anything with an outside effect.
 */
declare module '../../kernel/hooks/hook-map' {
  interface HookMap {
    onCompletion: WithinHook<CompletionArgs>;
    afterCompletion: EventHook<CompletionsArgs>;
  }
}

/** The hooks this module declares, with their kinds (declared on the bus at registration). */
export const learningHooks = { onCompletion: 'within', afterCompletion: 'event' } as const;
