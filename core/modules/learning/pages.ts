import type { Request, Response } from 'express';
import type { RouteRegistrar } from '../../kernel/http/routes';
import type { ExtensionRegistrar } from '../../kernel/features/context';
import { WaymarkError, type ErrorDetail } from '../../kernel/errors';
import { field, fields, pageId, renderView } from '../../kernel/http/render';
import { parseId } from '../../kernel/http/contract';
import { createBodyValidator } from '../../kernel/http/validation';
import { pageLinks, pagePositionOf, pickOrder } from '../../kernel/http/paging';
import { schemaForm, schemaProblems, valueFromForm } from '../../kernel/http/schema-form';
import type { JsonSchema } from '../../kernel/http/json-schema';
import type { Database } from '../../kernel/db/database';
import {
  ACTIVITY_TYPES,
  type ActivityInput,
  type ActivityPatch,
  type CompletionCriteria,
  type CourseInput,
  type CoursePatch,
  type CourseView,
  type CoursesService,
} from './courses';
import { activityCounts, COURSE_ORDERS } from './store/courses';
import { activityCreateBody, activityPatchBody, completionCriteriaBody, courseCopyBody, courseCreateBody, coursePatchBody, sectionCreateBody } from './routes';

const ORDER_LABELS: Record<string, string> = { fullname: 'Full name', shortname: 'Short name', '-id': 'Newest first', id: 'Oldest first' };
const KIND_LABELS: Record<string, string> = { resource: 'Resource (file)', page: 'Page', url: 'Link', quiz: 'Quiz' };
const CRITERIA_MODES = [
  { value: 'all_tracked', label: 'Every activity with completion tracking is complete' },
  { value: 'subset', label: 'The activities ticked below are complete' },
  { value: 'min_grade', label: 'The course grade reaches a minimum' },
] as const;

/** The criteria form's labels, for problems in words (the API schema has no titles). */
const criteriaLabels: JsonSchema = {
  type: 'object',
  properties: {
    mode: { title: 'Completes when', enum: CRITERIA_MODES.map((m) => m.value) },
    activityIds: { title: 'Activities', type: 'array' },
    minGrade: { title: 'Minimum grade (%)', type: 'number' },
  },
};

/** The edit forms show every field: the patch bodies with their names required. */
const courseSettingsForm: JsonSchema = { ...coursePatchBody, required: ['shortname', 'fullname'] };
const activityEditForm: JsonSchema = { ...activityPatchBody, required: ['name'] };

/** Whether a page's error is one the form explains (else it propagates to the error page). */
const explained = (error: unknown): error is WaymarkError =>
  error instanceof WaymarkError && (error.code === 'VALIDATION_FAILED' || error.status === 422 || error.status === 409);

/** A form's problems: the details with paths as the API wrote them, `/a/b` or `a.b`. */
const detailsOf = (error: WaymarkError): ErrorDetail[] => (error.details.length ? error.details : [{ path: '', code: error.code, message: error.message }]);

interface PageSite {
  db: Database;
  timezone: string;
  courses: CoursesService;
  extensions: ExtensionRegistrar;
}

/** Operator pages for courses: the list, a course's settings, sections, activities and completion criteria. */
export function registerCoursePages(site: PageSite, pages: RouteRegistrar): void {
  // The API's own body schemas check what a form posts (routes.ts): the form accepts what the API does.
  const validator = createBodyValidator();
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: site.timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
  /** A stored date as the day a date box shows, in the site's time zone. */
  const dayOf = (iso: string | null): string | null => (iso === null ? null : day.format(new Date(iso)));
  const restrictionsOn = (): boolean => site.extensions.list('activityAccess').length > 0;

  // ---- the list ------------------------------------------------------------------------------
  pages.page({
    method: 'get',
    path: '/admin/courses',
    access: 'admin',
    async handler(req, res) {
      const query = req.query as Record<string, unknown>;
      const q = typeof query.q === 'string' ? query.q.trim().slice(0, 100) : '';
      const visibleText = query.visible === 'yes' || query.visible === 'no' ? query.visible : '';
      const order = pickOrder(COURSE_ORDERS, query.sort);
      const position = pagePositionOf(order, query);
      const page = await site.courses.list({ ...(q ? { q } : {}), ...(visibleText ? { visible: visibleText === 'yes' } : {}) }, order, position);
      const counts = await activityCounts(
        site.db.knex,
        page.items.map((c) => c.id),
      );
      renderView(req, res, 'admin/courses', {
        title: 'Courses',
        adminNav: 'courses',
        courses: page.items.map((c) => ({ ...c, activities: counts.get(c.id) ?? 0, startDay: dayOf(c.startDate) })),
        q,
        visibility: [
          { value: '', label: 'Any', selected: visibleText === '' },
          { value: 'yes', label: 'Visible', selected: visibleText === 'yes' },
          { value: 'no', label: 'Hidden', selected: visibleText === 'no' },
        ],
        sorts: COURSE_ORDERS.map((o) => ({ value: o.name, label: ORDER_LABELS[o.name] ?? o.name, selected: o === order })),
        filtered: q !== '' || visibleText !== '',
        pager: pageLinks(
          '/admin/courses',
          { q: q || undefined, visible: visibleText || undefined, sort: order === COURSE_ORDERS[0] ? undefined : order.name },
          page,
          position,
        ),
      });
    },
  });

  // ---- create ------------------------------------------------------------------------------
  const createSchemaOmit = ['completionCriteria'];
  const showNew = (req: Request, res: Response, value: Record<string, unknown>, details: ErrorDetail[] = [], status?: number): void =>
    renderView(
      req,
      res,
      'admin/course-new',
      {
        title: 'Create a course',
        adminNav: 'courses',
        fields: schemaForm(courseCreateBody, value, details, { omit: createSchemaOmit }),
        errors: schemaProblems(courseCreateBody, details),
      },
      status,
    );
  pages.page({ method: 'get', path: '/admin/courses/new', access: 'admin', handler: (req, res) => showNew(req, res, { visible: true }) });
  pages.page({
    method: 'post',
    path: '/admin/courses/new',
    access: 'admin',
    async handler(req, res) {
      const value = valueFromForm(courseCreateBody, req.body as Record<string, unknown>, { omit: createSchemaOmit });
      try {
        const course = await site.courses.create(validator.validate<CourseInput>(courseCreateBody, value));
        res.redirect(303, `/admin/courses/${course.id}?notice=course-created`);
      } catch (error) {
        if (!explained(error)) throw error;
        showNew(req, res, value, detailsOf(error), error.status === 409 ? 409 : 422);
      }
    },
  });

  // ---- one course --------------------------------------------------------------------------
  /** What the course page shows; `failed` keeps one form's posted value and its problems. */
  interface Failed {
    form: 'settings' | 'section' | 'activity' | 'criteria' | 'copy';
    value: Record<string, unknown>;
    details: ErrorDetail[];
  }
  const sectionChoices = (course: CourseView) => [{ value: null, label: 'Top of the course' }, ...course.sections.map((s) => ({ value: s.id, label: s.name }))];

  const showCourse = async (req: Request, res: Response, courseId: number, failed?: Failed, status?: number): Promise<void> => {
    const course = await site.courses.get(courseId);
    const on = (form: Failed['form']) => (failed?.form === form ? failed : undefined);
    const stored = { ...course, startDate: dayOf(course.startDate) };
    const criteria = (on('criteria')?.value ?? course.completionCriteria) as Partial<CompletionCriteria> & { activityIds?: number[]; minGrade?: unknown };
    const chosen = new Set((criteria.activityIds ?? []).map(Number));
    const sectionNames = new Map(course.sections.map((s) => [s.id, s.name]));
    const restrictions = restrictionsOn();
    const errors = [
      ...schemaProblems(coursePatchBody, on('settings')?.details ?? []),
      ...schemaProblems(sectionCreateBody, on('section')?.details ?? []),
      ...schemaProblems(activityCreateBody, on('activity')?.details ?? []),
      ...schemaProblems(
        criteriaLabels,
        (on('criteria')?.details ?? []).map((d) => ({ ...d, path: (d.path ?? '').replace(/^completionCriteria[./]/, '') })),
      ),
      ...schemaProblems(courseCopyBody, on('copy')?.details ?? []),
    ];
    renderView(
      req,
      res,
      'admin/course-edit',
      {
        title: course.fullname,
        adminNav: 'courses',
        course,
        settings: schemaForm(courseSettingsForm, on('settings')?.value ?? stored, on('settings')?.details),
        addSection: schemaForm(sectionCreateBody, on('section')?.value ?? {}, on('section')?.details, { prefix: 'section.' }),
        addActivity: schemaForm(activityCreateBody, on('activity')?.value ?? { completionTracked: true }, on('activity')?.details, {
          prefix: 'activity.',
          choices: { type: ACTIVITY_TYPES.map((t) => ({ value: t, label: KIND_LABELS[t] ?? t })), sectionId: sectionChoices(course) },
        }),
        copy: schemaForm(
          courseCopyBody,
          on('copy')?.value ?? { shortname: `${course.shortname}-copy`, fullname: `${course.fullname} (copy)`, startDate: stored.startDate },
          on('copy')?.details,
          {
            prefix: 'copy.',
          },
        ),
        sections: course.sections.map((s) => ({
          ...s,
          restricted: s.availability !== null,
          activities: course.activities.filter((a) => a.sectionId === s.id).length,
        })),
        activities: course.activities.map((a, index) => ({
          ...a,
          kind: KIND_LABELS[a.type] ?? a.type,
          section: a.sectionId === null ? null : (sectionNames.get(a.sectionId) ?? null),
          restricted: a.availability !== null,
          isQuiz: a.type === 'quiz',
          first: index === 0,
          last: index === course.activities.length - 1,
        })),
        restrictions,
        criteria: {
          modes: CRITERIA_MODES.map((m) => ({ ...m, checked: m.value === (criteria.mode ?? 'all_tracked') })),
          activities: course.activities.map((a) => ({ id: a.id, name: a.name, checked: chosen.has(a.id) })),
          minGrade: criteria.minGrade === undefined ? '' : String(criteria.minGrade),
        },
        errors,
      },
      status,
    );
  };

  pages.page({ method: 'get', path: '/admin/courses/:id', access: 'admin', handler: (req, res) => showCourse(req, res, pageId(req.params.id, 'Course')) });

  /**
   * One course form posted: `read` turns it into an API body, `save` applies it; a problem shows
   * the course page again with this form as posted and its problems named.
   */
  const courseForm = (
    path: string,
    form: Failed['form'],
    read: (body: Record<string, unknown>) => Record<string, unknown>,
    save: (courseId: number, value: Record<string, unknown>) => Promise<string>,
  ): void => {
    pages.page({
      method: 'post',
      path: `/admin/courses/:id${path}`,
      access: 'admin',
      async handler(req, res) {
        const courseId = pageId(req.params.id, 'Course');
        const value = read((req.body ?? {}) as Record<string, unknown>);
        try {
          res.redirect(303, await save(courseId, value));
        } catch (error) {
          if (!explained(error)) throw error;
          await showCourse(req, res, courseId, { form, value, details: detailsOf(error) }, error.status === 409 ? 409 : 422);
        }
      },
    });
  };

  courseForm(
    '',
    'settings',
    (body) => valueFromForm(coursePatchBody, body),
    async (courseId, value) => {
      // The form shows every field, so an emptied name is a problem, not "leave it as it is".
      validator.validate(courseSettingsForm, value);
      // Only what changed: a start date set with a time through the API stays as it is when the
      // form (which shows the day) is saved for another field.
      const stored = await site.courses.get(courseId);
      const shown: Record<string, unknown> = { ...stored, startDate: dayOf(stored.startDate) };
      // Browsers send a text area's line breaks as CRLF: the same text with LF is no change.
      const same = (a: unknown, b: unknown) =>
        a === b || (typeof a === 'string' && typeof b === 'string' && a.replace(/\r\n/g, '\n') === b.replace(/\r\n/g, '\n'));
      const patch = Object.fromEntries(Object.entries(value).filter(([key, v]) => !same(v, shown[key])));
      if (Object.keys(patch).length) await site.courses.update(courseId, validator.validate<CoursePatch>(coursePatchBody, patch));
      return `/admin/courses/${courseId}?notice=course-saved`;
    },
  );

  courseForm(
    '/sections',
    'section',
    (body) => valueFromForm(sectionCreateBody, body, { prefix: 'section.' }),
    async (courseId, value) => {
      await site.courses.addSection(courseId, validator.validate<{ name: string }>(sectionCreateBody, value));
      return `/admin/courses/${courseId}?notice=section-added#sections`;
    },
  );

  courseForm(
    '/activities',
    'activity',
    (body) => valueFromForm(activityCreateBody, body, { prefix: 'activity.' }),
    async (courseId, value) => {
      const activity = await site.courses.addActivity(courseId, validator.validate<ActivityInput>(activityCreateBody, value));
      return `/admin/courses/${courseId}?notice=activity-added#activity-${activity.id}`;
    },
  );

  courseForm(
    '/criteria',
    'criteria',
    (body) => {
      const mode = field(body, 'mode');
      if (mode === 'subset') return { mode, activityIds: fields(body, 'activityIds').map((v) => parseId(v) ?? v) };
      if (mode === 'min_grade') {
        const text = field(body, 'minGrade').replace(',', '.');
        return text === '' ? { mode } : { mode, minGrade: /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text };
      }
      return { mode };
    },
    async (courseId, value) => {
      if (value.mode === 'min_grade' && value.minGrade === undefined)
        throw new WaymarkError('VALIDATION_FAILED', 'Enter the minimum grade', 400, [{ path: '/minGrade', code: 'required', message: 'is required' }]);
      await site.courses.setCompletionCriteria(courseId, validator.validate<CompletionCriteria>(completionCriteriaBody, value));
      return `/admin/courses/${courseId}?notice=criteria-saved#criteria`;
    },
  );

  courseForm(
    '/copy',
    'copy',
    (body) => valueFromForm(courseCopyBody, body, { prefix: 'copy.' }),
    async (courseId, value) => {
      // The day shown is the course's own: left as it is, the copy keeps the course's exact start.
      const source = await site.courses.get(courseId);
      const body = value.startDate === dayOf(source.startDate) && value.startDate !== null ? { ...value, startDate: undefined } : value;
      const { course } = await site.courses.copy(
        courseId,
        validator.validate<{ shortname: string; fullname: string }>(courseCopyBody, JSON.parse(JSON.stringify(body))),
      );
      return `/admin/courses/${course.id}?notice=course-copied`;
    },
  );

  // ---- sections ----------------------------------------------------------------------------
  pages.page({
    method: 'post',
    path: '/admin/sections/:id',
    access: 'admin',
    async handler(req, res) {
      const sectionId = pageId(req.params.id, 'Section');
      const name = field(req.body, 'name');
      const course = parseId(field(req.body, 'courseId'));
      try {
        const section = await site.courses.updateSection(sectionId, validator.validate<{ name: string }>(sectionCreateBody, { name }));
        res.redirect(303, `/admin/courses/${section.courseId}?notice=section-saved#sections`);
      } catch (error) {
        if (!explained(error) || course === null) throw error;
        await showCourse(req, res, course, { form: 'section', value: { name }, details: detailsOf(error) }, 422);
      }
    },
  });

  pages.page({
    method: 'post',
    path: '/admin/sections/:id/move',
    access: 'admin',
    async handler(req, res) {
      const section = await site.courses.moveSection(pageId(req.params.id, 'Section'), field(req.body, 'direction') === 'up' ? 'up' : 'down');
      res.redirect(303, `/admin/courses/${section.courseId}?notice=section-moved#section-${section.id}`);
    },
  });

  /** The section, found through its course (the service reads sections with their course). */
  const sectionOf = async (sectionId: number) => {
    const found = await site.courses.getSection(sectionId);
    const course = await site.courses.get(found.courseId);
    return {
      course,
      section: { ...found, activities: course.activities.filter((a) => a.sectionId === sectionId).length, restricted: found.availability !== null },
    };
  };
  pages.page({
    method: 'get',
    path: '/admin/sections/:id/delete',
    access: 'admin',
    async handler(req, res) {
      const { course, section } = await sectionOf(pageId(req.params.id, 'Section'));
      renderView(req, res, 'admin/section-delete', { title: `Delete ${section.name}`, adminNav: 'courses', course, section });
    },
  });
  pages.page({
    method: 'post',
    path: '/admin/sections/:id/delete',
    access: 'admin',
    async handler(req, res) {
      const { course, section } = await sectionOf(pageId(req.params.id, 'Section'));
      await site.courses.deleteSection(section.id);
      res.redirect(303, `/admin/courses/${course.id}?notice=section-deleted#sections`);
    },
  });

  // ---- one activity ------------------------------------------------------------------------
  const showActivity = async (
    req: Request,
    res: Response,
    activityId: number,
    value?: Record<string, unknown>,
    details: ErrorDetail[] = [],
    status?: number,
  ) => {
    const activity = await site.courses.getActivity(activityId);
    const course = await site.courses.get(activity.courseId);
    renderView(
      req,
      res,
      'admin/activity-edit',
      {
        title: `Edit ${activity.name}`,
        adminNav: 'courses',
        course,
        activity: { ...activity, kind: KIND_LABELS[activity.type] ?? activity.type, isQuiz: activity.type === 'quiz' },
        fields: schemaForm(activityEditForm, value ?? activity, details, { choices: { sectionId: sectionChoices(course) } }),
        restrictions: restrictionsOn(),
        errors: schemaProblems(activityPatchBody, details),
      },
      status,
    );
  };

  pages.page({
    method: 'get',
    path: '/admin/activities/:id',
    access: 'admin',
    handler: (req, res) => showActivity(req, res, pageId(req.params.id, 'Activity')),
  });
  pages.page({
    method: 'post',
    path: '/admin/activities/:id',
    access: 'admin',
    async handler(req, res) {
      const activityId = pageId(req.params.id, 'Activity');
      const value = valueFromForm(activityPatchBody, (req.body ?? {}) as Record<string, unknown>);
      try {
        validator.validate(activityEditForm, value);
        const activity = await site.courses.updateActivity(activityId, validator.validate<ActivityPatch>(activityPatchBody, value));
        res.redirect(303, `/admin/courses/${activity.courseId}?notice=activity-saved#activity-${activityId}`);
      } catch (error) {
        if (!explained(error)) throw error;
        await showActivity(req, res, activityId, value, detailsOf(error), error.status === 409 ? 409 : 422);
      }
    },
  });

  pages.page({
    method: 'post',
    path: '/admin/activities/:id/move',
    access: 'admin',
    async handler(req, res) {
      const activityId = pageId(req.params.id, 'Activity');
      const direction = field(req.body, 'direction') === 'up' ? 'up' : 'down';
      const activity = await site.courses.moveActivity(activityId, direction);
      res.redirect(303, `/admin/courses/${activity.courseId}?notice=activity-moved#activity-${activityId}`);
    },
  });

  /** The confirmation page; `refusal` is why the service would not delete it. */
  const showDelete = async (req: Request, res: Response, activityId: number, refusal?: string, status?: number) => {
    const activity = await site.courses.getActivity(activityId);
    const course = await site.courses.get(activity.courseId);
    renderView(req, res, 'admin/activity-delete', { title: `Delete ${activity.name}`, adminNav: 'courses', course, activity, refusal }, status);
  };
  pages.page({
    method: 'get',
    path: '/admin/activities/:id/delete',
    access: 'admin',
    handler: (req, res) => showDelete(req, res, pageId(req.params.id, 'Activity')),
  });
  pages.page({
    method: 'post',
    path: '/admin/activities/:id/delete',
    access: 'admin',
    async handler(req, res) {
      const activityId = pageId(req.params.id, 'Activity');
      const activity = await site.courses.getActivity(activityId);
      try {
        await site.courses.deleteActivity(activityId);
      } catch (error) {
        if (error instanceof WaymarkError && error.status === 409) return showDelete(req, res, activityId, error.message, 409);
        throw error;
      }
      res.redirect(303, `/admin/courses/${activity.courseId}?notice=activity-deleted`);
    },
  });
}
