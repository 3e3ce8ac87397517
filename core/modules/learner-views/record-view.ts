import type { AssignmentHistoryEntry } from '../assignment/index';
import type { RecordFilter, RecordOfLearning, RecordStatus } from './learner-data';

/**
 * What the learner pages add to the Record of Learning and to assignment histories for people:
 * labels, the filter's options and the pager. Kept apart from the loaders so the JSON API and the
 * pages share the data and differ only in words.
 */

const FILTER_LABELS: Record<RecordFilter, string> = {
  all: 'Everything',
  in_progress: 'In progress',
  complete: 'Complete',
  past: 'In the past',
};

const STATUS_CLASS: Record<RecordStatus, string> = { in_progress: 'open', complete: 'complete', past: 'past' };

const PROGRAM_STATUS: Record<RecordStatus, string> = { in_progress: 'In progress', complete: 'Complete', past: 'Assigned in the past' };
const COURSE_STATUS: Record<RecordStatus, string> = { in_progress: 'In progress', complete: 'Complete', past: 'No longer enrolled' };

const EMPTY: Record<RecordFilter, [string, string]> = {
  all: ['No programs yet.', 'No courses yet.'],
  in_progress: ['No programs in progress.', 'No courses in progress.'],
  complete: ['No completed programs yet.', 'No completed courses yet.'],
  past: ['No programs from earlier assignments.', 'No courses from earlier enrolments.'],
};

/**
 * The Record of Learning page's view: the loaded record with labels, the filter and the pager
 * (1-based `page`). `recordPath` is the page's own address: the learner's `/my/record-of-learning`,
 * or `/users/{id}/record-of-learning` when their manager or an administrator looks.
 */
export function recordView(data: RecordOfLearning, page: number, recordPath = '/my/record-of-learning'): Record<string, unknown> {
  const query = (p: number) => {
    const params = new URLSearchParams();
    if (data.status !== 'all') params.set('status', data.status);
    if (p > 1) params.set('page', String(p));
    const text = params.toString();
    return `${recordPath}${text ? `?${text}` : ''}`;
  };
  const shown = (n: number, total: number, what: string) => (total > n ? `${what}: ${n} of ${total} on this page` : `${what}: ${total}`);
  return {
    status: data.status,
    recordPath,
    statusOptions: (Object.keys(FILTER_LABELS) as RecordFilter[]).map((value) => ({ value, label: FILTER_LABELS[value], selected: value === data.status })),
    programs: data.programs.map((p) => ({ ...p, statusLabel: PROGRAM_STATUS[p.status], statusClass: STATUS_CLASS[p.status] })),
    courses: data.courses.map((c) => ({ ...c, statusLabel: COURSE_STATUS[c.status], statusClass: STATUS_CLASS[c.status] })),
    history: data.history.map((h) => ({ ...h, late: h.reason === 'recurrence_late' })),
    programsCaption: shown(data.programs.length, data.totals.programs, `Programs (${FILTER_LABELS[data.status].toLowerCase()})`),
    coursesCaption: shown(data.courses.length, data.totals.courses, `Courses (${FILTER_LABELS[data.status].toLowerCase()})`),
    programsEmpty: page > 1 ? 'No more programs.' : EMPTY[data.status][0],
    coursesEmpty: page > 1 ? 'No more courses.' : EMPTY[data.status][1],
    pager:
      page > 1 || data.nextOffset !== null
        ? { page, previous: page > 1 ? query(page - 1) : null, next: data.nextOffset !== null ? query(page + 1) : null }
        : null,
  };
}

const TYPE_LABELS: Record<string, string> = {
  already_assigned: 'Already assigned',
  completion_time_unknown: 'Completion time unknown',
  time_allowance: 'Time allowance too short',
};

function decision(entry: AssignmentHistoryEntry): string {
  switch (entry.resolution) {
    case 'assign':
      return entry.type === 'time_allowance' ? 'Assigned: the due date was accepted as it is' : 'Assigned, keeping the due date';
    case 'set_realistic_due_date':
      return 'Assigned with a new, realistic due date';
    case 'dismiss':
      return 'Dismissed: not assigned';
    case 'recheck':
      return 'Cleared when the due date changed';
    case 'unassigned':
      return 'Closed: no longer assigned';
    default:
      return entry.status === 'dismissed' ? 'Dismissed: not assigned' : 'Waiting for an administrator';
  }
}

/** An assignment history for a page: type and decision in words; the operator's name only for operators. */
export function historyLines(
  history: readonly AssignmentHistoryEntry[],
  forOperator: boolean,
): Array<AssignmentHistoryEntry & { typeLabel: string; decision: string; decidedBy: string | null }> {
  return history.map((entry) => ({
    ...entry,
    typeLabel: TYPE_LABELS[entry.type] ?? entry.type,
    decision: decision(entry),
    decidedBy: forOperator ? (entry.resolvedBy?.fullname ?? (entry.resolution ? 'Waymark' : null)) : null,
  }));
}
