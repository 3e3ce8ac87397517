import {
  invalid,
  isValidDuration,
  notFound,
  programViews,
  queryRows,
  runStatement,
  type Database,
  type ErrorDetail,
  type Executor,
  type Knex,
} from '../../core/index';
import { checkTemplate } from './templates';
import { MESSAGE_TYPES, TIMED_RULES, TIMED_TYPES, type Message, type MessageInput, type MessageType } from './types';

interface MessageRow {
  id: number;
  program_id: number;
  type: string;
  subject: string;
  body: string;
  manager_copy: number | boolean;
  manager_subject: string | null;
  manager_body: string | null;
  trigger_offset: string | null;
  trigger_direction: string | null;
  active_from: number;
  created_at: number;
  updated_at: number;
}

const iso = (ms: number | string): string => new Date(Number(ms)).toISOString();

function toMessage(row: MessageRow): Message {
  return {
    id: Number(row.id),
    programId: Number(row.program_id),
    type: row.type as MessageType,
    subject: row.subject,
    body: row.body,
    managerCopy: Boolean(Number(row.manager_copy)),
    managerSubject: row.manager_subject,
    managerBody: row.manager_body,
    triggerOffset: row.trigger_offset,
    triggerDirection: (row.trigger_direction as Message['triggerDirection']) ?? null,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/**
 * The messages every program starts with (issue 12: an assigned message, with a manager copy, and
 * an exception report; and the two extension messages, which only a program that takes extension
 * requests ever sends, since without them a manager would not hear of a request; and the recurring
 * course message, which only a recurring program sends). Created the first time anything asks about
 * the program's messages.
 */
export const DEFAULT_MESSAGES: readonly MessageInput[] = [
  {
    type: 'assigned',
    subject: 'You have been enrolled on {{program_fullname}}',
    body:
      'Hello {{user_fullname}},\n\nYou have been enrolled on the program {{program_fullname}}.\n' +
      '{{#if due_date}}Please complete it by {{due_date}}.\n{{/if}}\nTo complete it: {{completion_criteria}}',
    managerCopy: true,
    managerSubject: '{{user_fullname}} has been enrolled on {{program_fullname}}',
    managerBody:
      'Hello {{recipient_fullname}},\n\n{{user_fullname}}, who reports to you, has been enrolled on the program {{program_fullname}}.' +
      '{{#if due_date}} It is due on {{due_date}}.{{/if}}',
  },
  {
    type: 'exception_report',
    subject: 'Assignment exceptions in {{program_fullname}}',
    body:
      'Hello {{recipient_fullname}},\n\n{{exception_count}} learner(s) could not be assigned to {{program_fullname}} and wait for your decision:\n\n' +
      '{{exception_learners}}\n\nResolve them on the assignment exceptions page.',
  },
  {
    type: 'extension_request',
    subject: '{{user_fullname}} asks for more time in {{program_fullname}}',
    body:
      'Hello {{recipient_fullname}},\n\n{{user_fullname}} asks to move their due date in {{program_fullname}} from {{due_date}} to {{extension_due_date}}:\n\n' +
      '{{extension_reason}}\n\nApprove or decline it on your Extension requests page.',
  },
  {
    type: 'extension_decided',
    subject: 'Your extension request in {{program_fullname}} was {{extension_decision}}',
    body:
      'Hello {{user_fullname}},\n\nYour request for more time in {{program_fullname}} was {{extension_decision}}.' +
      '{{#if extension_due_date}} Your due date is now {{extension_due_date}}.{{/if}}{{#if extension_decision_reason}}\n\n{{extension_decision_reason}}{{/if}}',
  },
  {
    type: 'recurring_course',
    subject: 'Time to renew {{program_fullname}}: {{recurring_course}}',
    body:
      'Hello {{user_fullname}},\n\nA new period of {{program_fullname}} has started. Please complete {{recurring_course}}' +
      '{{#if due_date}} by {{due_date}}{{/if}}.',
  },
];

/** The stored shape of a valid input (defaults applied), or the problems that make it invalid. */
function normalise(input: MessageInput): { row: Omit<MessageRow, 'id' | 'program_id' | 'active_from' | 'created_at' | 'updated_at'>; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const type = input.type;
  if (!(MESSAGE_TYPES as readonly string[]).includes(type))
    problems.push({ path: 'type', code: 'MESSAGE_TYPE_UNKNOWN', message: `Unknown message type ${String(type)}` });
  const timed = TIMED_TYPES.has(type);
  let offset = input.triggerOffset ?? null;
  let direction = input.triggerDirection ?? null;
  if (timed) {
    const rule = TIMED_RULES[type]!;
    if (offset === null)
      problems.push({ path: 'triggerOffset', code: 'TRIGGER_REQUIRED', message: `A ${type} message needs a trigger offset such as P3D (${rule.from})` });
    else if (!isValidDuration(offset))
      problems.push({ path: 'triggerOffset', code: 'TRIGGER_OFFSET_INVALID', message: `"${offset}" is not an ISO-8601 duration such as P3D or P1W` });
    direction ??= rule.directions[0]!;
    if (!rule.directions.includes(direction))
      problems.push({
        path: 'triggerDirection',
        code: 'TRIGGER_DIRECTION_INVALID',
        message: `A ${type} message is sent ${rule.directions.join(' or ')} ${rule.from}`,
      });
  } else if (offset !== null || direction !== null) {
    problems.push({
      path: 'triggerOffset',
      code: 'TRIGGER_NOT_ALLOWED',
      message: `A ${type} message is sent when its event happens; it takes no trigger offset`,
    });
    offset = null;
    direction = null;
  }
  const managerCopy = input.managerCopy ?? false;
  if (managerCopy && type === 'exception_report')
    problems.push({
      path: 'managerCopy',
      code: 'MANAGER_COPY_NOT_ALLOWED',
      message: 'An exception report goes to site administrators; it has no manager copy',
    });
  const managerSubject = managerCopy ? (input.managerSubject ?? input.subject) : (input.managerSubject ?? null);
  const managerBody = managerCopy ? (input.managerBody ?? input.body) : (input.managerBody ?? null);
  const templates: Array<[string, string | null]> = [
    ['subject', input.subject],
    ['body', input.body],
    ['managerSubject', managerSubject],
    ['managerBody', managerBody],
  ];
  for (const [field, source] of templates) if (source !== null) problems.push(...checkTemplate(field, source));
  return {
    row: {
      type,
      subject: input.subject,
      body: input.body,
      manager_copy: managerCopy,
      manager_subject: managerSubject,
      manager_body: managerBody,
      trigger_offset: offset,
      trigger_direction: direction,
    },
    problems,
  };
}

function rejectIfInvalid(problems: ErrorDetail[]): void {
  if (!problems.length) return;
  const placeholder = problems.find((p) => p.code === 'TEMPLATE_PLACEHOLDER_UNKNOWN');
  const first = placeholder ?? problems[0]!;
  throw invalid(placeholder ? 'TEMPLATE_PLACEHOLDER_UNKNOWN' : (first.code ?? 'MESSAGE_INVALID'), first.message, problems);
}

/** Program messages: validation, defaults, and this plugin's own table. */
export class MessageStore {
  constructor(private readonly db: Database) {}

  /** 404 unless the program exists (read through the programs module's published view). */
  async programName(programId: number, executor: Executor = this.db.knex): Promise<string> {
    const [row] = await queryRows<{ fullname: string }>(executor, `SELECT p.fullname FROM ${programViews.programs.as('p')} WHERE p.id = ?`, [programId]);
    if (!row) throw notFound('Program', programId);
    return row.fullname;
  }

  /**
   * Gives a program its default messages the first time it is seen. The marker row is inserted
   * with insert-or-ignore, so concurrent callers (two workers, a page and an event) add them once,
   * and a program whose operator deleted every message does not get them back.
   */
  async ensureDefaults(programId: number, trx?: Knex.Transaction): Promise<void> {
    const run = async (t: Knex.Transaction): Promise<void> => {
      const now = this.db.now();
      const insertIgnore = this.db.dialect === 'mysql' ? 'INSERT IGNORE INTO' : 'INSERT OR IGNORE INTO';
      const added = await runStatement(t, `${insertIgnore} notify_program_programs (program_id, defaults_at) VALUES (?, ?)`, [programId, now]);
      if (!added) return;
      for (const input of DEFAULT_MESSAGES) await t('notify_program_messages').insert(this.toRow(programId, normalise(input).row, now));
    };
    if (trx) return run(trx);
    // A cheap read first: nearly every call finds the marker and writes nothing.
    const [known] = await queryRows<{ program_id: number }>(this.db.knex, 'SELECT program_id FROM notify_program_programs WHERE program_id = ?', [programId]);
    if (!known) await this.db.transaction(run);
  }

  private toRow(programId: number, row: ReturnType<typeof normalise>['row'], now: number): Omit<MessageRow, 'id'> {
    return { ...row, program_id: programId, active_from: now, created_at: now, updated_at: now };
  }

  async list(programId: number): Promise<Message[]> {
    await this.programName(programId);
    await this.ensureDefaults(programId);
    const rows = await this.db.knex<MessageRow>('notify_program_messages').where({ program_id: programId }).orderBy('id');
    return rows.map(toMessage);
  }

  async find(id: number): Promise<Message | null> {
    const row = await this.db.knex<MessageRow>('notify_program_messages').where({ id }).first();
    return row ? toMessage(row) : null;
  }

  async get(id: number): Promise<Message> {
    const message = await this.find(id);
    if (!message) throw notFound('Message', id);
    return message;
  }

  /** Validates first (422 naming the problem, nothing written), then stores. */
  async create(programId: number, input: MessageInput): Promise<Message> {
    await this.programName(programId);
    const { row, problems } = normalise(input);
    rejectIfInvalid(problems);
    const id = await this.db.transaction(async (trx) => {
      await this.ensureDefaults(programId, trx);
      const [inserted] = await trx('notify_program_messages').insert(this.toRow(programId, row, this.db.now()), ['id']);
      return typeof inserted === 'object' ? Number((inserted as { id: number }).id) : Number(inserted);
    });
    return this.get(id);
  }

  /** A partial change, validated as a whole; a new trigger counts as a new message for the catch-up rule. */
  async update(id: number, patch: Partial<MessageInput>): Promise<Message> {
    const current = await this.get(id);
    const merged: MessageInput = {
      type: patch.type ?? current.type,
      subject: patch.subject ?? current.subject,
      body: patch.body ?? current.body,
      managerCopy: patch.managerCopy ?? current.managerCopy,
      managerSubject: patch.managerSubject !== undefined ? patch.managerSubject : current.managerSubject,
      managerBody: patch.managerBody !== undefined ? patch.managerBody : current.managerBody,
      triggerOffset: patch.triggerOffset !== undefined ? patch.triggerOffset : current.triggerOffset,
      triggerDirection: patch.triggerDirection !== undefined ? patch.triggerDirection : current.triggerDirection,
    };
    // Changing to a type without a trigger drops the old trigger rather than refusing.
    if (!TIMED_TYPES.has(merged.type) && patch.triggerOffset === undefined) merged.triggerOffset = null;
    if (!TIMED_TYPES.has(merged.type) && patch.triggerDirection === undefined) merged.triggerDirection = null;
    const { row, problems } = normalise(merged);
    rejectIfInvalid(problems);
    const now = this.db.now();
    const retriggered = row.type !== current.type || row.trigger_offset !== current.triggerOffset || row.trigger_direction !== current.triggerDirection;
    await this.db
      .knex('notify_program_messages')
      .where({ id })
      .update({ ...row, updated_at: now, ...(retriggered ? { active_from: now } : {}) });
    return this.get(id);
  }

  async remove(id: number): Promise<void> {
    const deleted = await this.db.knex('notify_program_messages').where({ id }).delete();
    if (!deleted) throw notFound('Message', id);
  }
}
