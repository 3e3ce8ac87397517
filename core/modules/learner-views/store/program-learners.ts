import type { Executor } from '../../../kernel/db/database';
import { queryRows } from '../../../kernel/db/sql';
import { assignmentViews } from '../../assignment/index';
import { peopleViews } from '../../people/index';
import { programViews } from '../../programs/index';

/** A learner in the operator's list of a program's learners. */
export interface ProgramLearnerRow {
  id: number;
  username: string;
  fullname: string;
  due_at: number | null;
  status: string | null;
  completed_at: number | null;
}

/** The first 500 learners actively assigned to the program, by name, with their due date and completion record. */
export function activeLearnersOf(executor: Executor, programId: number): Promise<ProgramLearnerRow[]> {
  return queryRows<ProgramLearnerRow>(
    executor,
    `SELECT u.id, u.username, u.fullname, a.due_at, pc.status, pc.completed_at
         FROM ${assignmentViews.programUserAssignments.as('a')} JOIN ${peopleViews.users.as('u')} ON u.id = a.user_id
         LEFT JOIN ${programViews.programCompletions.as('pc')} ON pc.program_id = a.program_id AND pc.user_id = a.user_id
         WHERE a.program_id = ? AND a.status = 'active' ORDER BY u.fullname, u.id LIMIT 500`,
    [programId],
  );
}
