import type { EventHook, WithinHook } from '../../kernel/hooks/hook-map';

/** Learners (de)assigned to one program in one batch: a sync batch is one call, not one per learner. */
export interface ProgramAssignmentArgs {
  programId: number;
  userIds: number[];
}

export type ExceptionType = 'already_assigned' | 'completion_time_unknown' | 'time_allowance';

/** One raised exception (`onExceptionRaised`, within). */
export interface ExceptionRaisedArgs {
  programId: number;
  userId: number;
  exceptionId: number;
  type: ExceptionType;
}

/** The exceptions one sync batch raised in one program (`afterExceptionRaised`, event). */
export interface ExceptionsRaisedArgs {
  programId: number;
  exceptions: Array<{ userId: number; exceptionId: number; type: ExceptionType }>;
}

/**
 * `onX` hooks run `within` the assignment transaction (their handlers' writes, e.g. enrol_program's
 * suspensions, commit or roll back with it); `afterX` hooks are their `event` twins, delivered after
 * commit through the outbox, one event per sync batch.
 */
declare module '../../kernel/hooks/hook-map' {
  interface HookMap {
    onProgramAssigned: WithinHook<ProgramAssignmentArgs>;
    onProgramUnassigned: WithinHook<ProgramAssignmentArgs>;
    onExceptionRaised: WithinHook<ExceptionRaisedArgs>;
    afterProgramAssigned: EventHook<ProgramAssignmentArgs>;
    afterProgramUnassigned: EventHook<ProgramAssignmentArgs>;
    afterExceptionRaised: EventHook<ExceptionsRaisedArgs>;
  }
}

/** The hooks this module declares, with their kinds (declared on the bus at registration). */
export const assignmentHooks = {
  onProgramAssigned: 'within',
  onProgramUnassigned: 'within',
  onExceptionRaised: 'within',
  afterProgramAssigned: 'event',
  afterProgramUnassigned: 'event',
  afterExceptionRaised: 'event',
} as const;
