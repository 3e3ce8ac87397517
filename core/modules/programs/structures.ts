import type { Executor } from '../../kernel/db/database';
import { compileProgram, type CompiledProgram, type CourseRef, type CourseSetDef } from './engine';
import { courseSetsOf, programVersion, setCoursesOf, type CourseSetRow, type SetCourseRow } from './store/programs';

/** A program's structure as stored, compiled once per structure_version. */
export interface CachedStructure {
  programId: number;
  version: number;
  sets: CourseSetDef[];
  compiled: CompiledProgram;
  /** Every course of every set, for the "restricted to the program's courses" query. */
  courseIds: number[];
}

/**
 * In-process cache of compiled program structures keyed by program id. Entries carry the
 * structure_version they were compiled from; callers always read the current version in the same
 * query that finds the programs (see {@link StructureCache.get}), so an edit made by another
 * process is noticed on the next lookup without any cross-process messaging.
 */
export class StructureCache {
  private readonly entries = new Map<number, CachedStructure>();

  /** Drops a program's entry (edits in this process; others notice the bumped version). */
  invalidate(programId: number): void {
    this.entries.delete(programId);
  }

  clear(): void {
    this.entries.clear();
  }

  /**
   * Compiled structures for the given (programId, current version) pairs, loading only those
   * missing or stale: two queries for all of them together, none when everything is cached.
   */
  async get(executor: Executor, wanted: ReadonlyArray<{ id: number; version: number }>): Promise<CachedStructure[]> {
    const stale = wanted.filter((w) => this.entries.get(w.id)?.version !== w.version);
    if (stale.length) await this.load(executor, stale);
    return wanted.map((w) => this.entries.get(w.id)).filter((s): s is CachedStructure => s !== undefined);
  }

  /** The current structure of one program (reads its version), or null when it does not exist. */
  async getOne(executor: Executor, programId: number): Promise<CachedStructure | null> {
    const row = await programVersion(executor, programId);
    if (!row) return null;
    const [structure] = await this.get(executor, [{ id: row.id, version: Number(row.structure_version) }]);
    return structure ?? null;
  }

  private async load(executor: Executor, wanted: ReadonlyArray<{ id: number; version: number }>): Promise<void> {
    const ids = wanted.map((w) => w.id);
    const sets: CourseSetRow[] = await courseSetsOf(executor, ids);
    const courses = sets.length ? await setCoursesOf(executor, ids) : [];
    const coursesBySet = new Map<number, SetCourseRow[]>();
    for (const row of courses) {
      const list = coursesBySet.get(Number(row.course_set_id)) ?? [];
      list.push(row);
      coursesBySet.set(Number(row.course_set_id), list);
    }
    for (const w of wanted) {
      const defs: CourseSetDef[] = [];
      const refs = new Map<number, CourseRef>();
      for (const s of sets.filter((row) => Number(row.program_id) === w.id)) {
        const setCourses = coursesBySet.get(Number(s.id)) ?? [];
        for (const c of setCourses) refs.set(Number(c.course_id), { id: Number(c.course_id), fullname: c.fullname, score: Number(c.score) });
        defs.push({
          id: Number(s.id),
          label: s.label,
          courseIds: setCourses.map((c) => Number(c.course_id)),
          rule: s.rule,
          minCourses: Number(s.min_courses),
          minScore: Number(s.min_score),
          minTime: s.min_time,
          operator: s.operator,
        });
      }
      const compiled = compileProgram({ programId: w.id, sets: defs, courses: refs });
      this.entries.set(w.id, { programId: w.id, version: w.version, sets: defs, compiled, courseIds: [...refs.keys()] });
    }
  }
}
