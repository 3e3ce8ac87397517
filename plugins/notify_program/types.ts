/** The message types of DOMAIN 7, in the order operators see them. */
export const MESSAGE_TYPES = [
  'assigned',
  'unassigned',
  'program_due',
  'program_overdue',
  'courseset_due',
  'courseset_overdue',
  'courseset_completed',
  'program_completed',
  'followup',
  'exception_report',
  'extension_request',
  'extension_decided',
  'recurring_course',
] as const;

export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Types sent by the scheduled scan at a moment relative to a due date or a completion. */
export const TIMED_TYPES: ReadonlySet<MessageType> = new Set(['program_due', 'program_overdue', 'courseset_due', 'courseset_overdue', 'followup']);

/** Reminders: not sent to a learner who has completed what they remind of. */
export const REMINDER_TYPES: ReadonlySet<MessageType> = new Set(['program_due', 'program_overdue', 'courseset_due', 'courseset_overdue']);

/** Messages about one extension request: their delivery's cycle is the request id. */
export const EXTENSION_TYPES: ReadonlySet<MessageType> = new Set(['extension_request', 'extension_decided']);

/** What a timed type counts from, and the direction it allows. */
export const TIMED_RULES: Record<string, { from: string; directions: ReadonlyArray<'before' | 'after'> }> = {
  program_due: { from: 'the program due date', directions: ['before'] },
  program_overdue: { from: 'the program due date', directions: ['after'] },
  courseset_due: { from: 'the course set due date', directions: ['before'] },
  courseset_overdue: { from: 'the course set due date', directions: ['after'] },
  followup: { from: 'the program completion', directions: ['after'] },
};

export const TYPE_LABELS: Record<MessageType, string> = {
  assigned: 'Enrolment (assigned)',
  unassigned: 'Unenrolment (unassigned)',
  program_due: 'Program due reminder',
  program_overdue: 'Program overdue',
  courseset_due: 'Course set due reminder',
  courseset_overdue: 'Course set overdue',
  courseset_completed: 'Course set completed',
  program_completed: 'Program completed',
  followup: 'Follow-up after completion',
  exception_report: 'Exception report (to site administrators)',
  extension_request: 'Extension requested (to the manager)',
  extension_decided: 'Extension decided (to the learner)',
  recurring_course: 'Recurring course: a new period started',
};

/** A program message as the API shows it. */
export interface Message {
  id: number;
  programId: number;
  type: MessageType;
  subject: string;
  body: string;
  managerCopy: boolean;
  managerSubject: string | null;
  managerBody: string | null;
  /** ISO-8601 duration; timed types only. */
  triggerOffset: string | null;
  triggerDirection: 'before' | 'after' | null;
  createdAt: string;
  updatedAt: string;
}

/** What a create or update sends (the API body, or the admin form read into the same shape). */
export interface MessageInput {
  type: MessageType;
  subject: string;
  body: string;
  managerCopy?: boolean;
  managerSubject?: string | null;
  managerBody?: string | null;
  triggerOffset?: string | null;
  triggerDirection?: 'before' | 'after' | null;
}
