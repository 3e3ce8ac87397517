import type { Knex } from 'knex';
import { isUniqueViolation, type Database } from '../../kernel/db/database';
import { conflict, notFound } from '../../kernel/errors';
import type { ExtensionRegistrar } from '../../kernel/features/context';
import type { ActivityAccessProvider } from './availability';
import {
  activitiesOfCourse,
  courseById,
  criteriaOfCourse,
  insertActivity,
  insertCourse,
  insertSection,
  sectionsOfCourse,
  updateActivityRow,
  updateSectionRow,
  upsertCriteria,
} from './store/courses';
import { questionsOf, quizSettingsOf, replaceQuestions, saveQuizSettings } from './store/quizzes';

/** What a copy is called and how it starts. */
export interface CourseCopyInput {
  shortname: string;
  fullname: string;
  /** Default false: a copy stays hidden until someone shows it (a recurring program's next period does). */
  visible?: boolean;
  /** Epoch ms; default: the source's. */
  startDate?: number | null;
}

export interface CourseCopy {
  courseId: number;
  /** Source activity id -> the copy's. */
  activityIds: Map<number, number>;
}

const parse = (text: string | null): unknown => (text === null ? null : (JSON.parse(text) as unknown));

/**
 * Copies a course in one transaction: its settings, sections, activities with their completion
 * settings, completion criteria, quiz settings and questions, and every restriction tree with the
 * activities it names remapped to the copy's (issue 15 item 2). No learner data: no enrolments,
 * completions, grades or attempts. Restriction trees are rewritten by the `activityAccess`
 * contribution (it knows which conditions name activities); with none and a tree to copy, the copy
 * is refused rather than made with conditions pointing into the old course. `within`: a caller's
 * transaction (a recurring program records the copy as its next period in the same unit of work).
 */
export async function copyCourse(
  deps: { db: Database; extensions: ExtensionRegistrar },
  courseId: number,
  input: CourseCopyInput,
  within?: Knex.Transaction,
): Promise<CourseCopy> {
  const provider: ActivityAccessProvider | undefined = deps.extensions.list('activityAccess')[0]?.value;
  const { db } = deps;
  return db.transaction(
    async (trx) => {
      const source = await courseById(trx, courseId);
      if (!source) throw notFound('Course', courseId);
      const sections = await sectionsOfCourse(trx, courseId);
      const activities = await activitiesOfCourse(trx, courseId);
      const restricted = [...sections, ...activities].some((row) => row.availability !== null);
      if (restricted && !provider?.remap) {
        throw conflict('RESTRICTIONS_UNAVAILABLE', 'The course has access restrictions and no plugin can copy them (enable restrict_access)');
      }
      const now = db.now();
      let copyId: number;
      try {
        copyId = await insertCourse(trx, {
          shortname: input.shortname,
          fullname: input.fullname,
          summary: source.summary,
          visible: input.visible ?? false,
          start_date: input.startDate === undefined ? source.start_date : input.startDate,
          score: Number(source.score),
          created_at: now,
          updated_at: now,
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('COURSE_SHORTNAME_TAKEN', `A course with shortname "${input.shortname}" already exists`);
        throw error;
      }
      const sectionIds = new Map<number, number>();
      for (const section of sections) {
        sectionIds.set(Number(section.id), await insertSection(trx, { course_id: copyId, name: section.name, availability: null, now }));
      }
      const activityIds = new Map<number, number>();
      for (const activity of activities) {
        const copied = await insertActivity(trx, {
          course_id: copyId,
          sortorder: Number(activity.sortorder),
          type: activity.type,
          name: activity.name,
          completion_tracked: Boolean(Number(activity.completion_tracked)),
          max_grade: Number(activity.max_grade),
          availability: null,
          section_id: activity.section_id === null ? null : (sectionIds.get(Number(activity.section_id)) ?? null),
          created_at: now,
        });
        activityIds.set(Number(activity.id), copied);
        await copyQuiz(trx, Number(activity.id), copied, now);
      }
      // Trees last: they may name any activity of the course, including later ones.
      const remap = (text: string | null): string | null => (text === null ? null : JSON.stringify(provider!.remap!(parse(text), activityIds)));
      for (const activity of activities) {
        if (activity.availability !== null) await updateActivityRow(trx, activityIds.get(Number(activity.id))!, { availability: remap(activity.availability) });
      }
      for (const section of sections) {
        if (section.availability !== null) await updateSectionRow(trx, sectionIds.get(Number(section.id))!, { availability: remap(section.availability) }, now);
      }
      const criteria = await criteriaOfCourse(trx, courseId);
      if (criteria) {
        const ids = parse(criteria.activity_ids) as number[] | null;
        await upsertCriteria(trx, {
          course_id: copyId,
          mode: criteria.mode,
          activity_ids: ids === null ? null : JSON.stringify(ids.map((id) => activityIds.get(Number(id))).filter((id) => id !== undefined)),
          min_grade: criteria.min_grade === null ? null : Number(criteria.min_grade),
          updated_at: now,
        });
      }
      return { courseId: copyId, activityIds };
    },
    within ? { within } : undefined,
  );
}

/** The quiz's settings and questions onto its copy (never its attempts). */
async function copyQuiz(trx: Knex.Transaction, from: number, to: number, now: number): Promise<void> {
  const settings = await quizSettingsOf(trx, from);
  if (settings) await saveQuizSettings(trx, { ...settings, activity_id: to, updated_at: now });
  const questions = await questionsOf(trx, from);
  if (questions.length)
    await replaceQuestions(
      trx,
      to,
      questions.map(({ id: _id, ...q }) => ({ ...q, activity_id: to })),
    );
}
