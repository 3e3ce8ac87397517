import type { EventHook } from '../../kernel/hooks/hook-map';

/**
 * A recurring program switched to its next period (`afterRecurrencePeriodStarted`, event): the
 * learners assigned at the switch started a new cycle at `startsAt` (their assignment's cycle time),
 * and `courseId` is the period's copy of the course.
 */
export interface RecurrencePeriodStartedArgs {
  programId: number;
  periodId: number;
  courseId: number;
  label: string;
  startsAt: number;
}

declare module '../../kernel/hooks/hook-map' {
  interface HookMap {
    afterRecurrencePeriodStarted: EventHook<RecurrencePeriodStartedArgs>;
  }
}

/** The hooks this module declares, with their kinds. */
export const programHooks = { afterRecurrencePeriodStarted: 'event' } as const;
