/**
 * The public Waymark SDK: everything a plugin author may import. Plugins import from this module
 * (`../../core/index`) and nothing deeper, so core internals can change without breaking them.
 *
 * @packageDocumentation
 */
export { definePlugin } from './kernel/plugins/types';
export type { PluginDefinition, PluginManifest, PluginRegisterContext, PluginRuntimeContext, PluginInfo, PluginState } from './kernel/plugins/types';
export { SDK_VERSION } from './kernel/plugins/sdk-version';
export type { FeatureContext, ExtensionRegistrar, JobRunner } from './kernel/features/context';
export { createServiceRef, type ServiceRef, type ServiceDeps, type ResolvedDeps } from './kernel/features/services';

// The services a plugin may declare in `deps` (each module's index says what its services do).
export { kernelServices, type PageAccess, type PlatformStatus, type SessionAccess } from './kernel/features/kernel-services';
export {
  peopleServices,
  peopleViews,
  type UserService,
  type AudienceService,
  type HierarchyService,
  type JobAssignmentService,
  type ProfileFieldService,
  type UserAdminSection,
  type UserAdminLines,
} from './modules/people/index';
export {
  learningServices,
  learningViews,
  type CoursesService,
  type EnrolmentsService,
  type CompletionService,
  type ActivityAccess,
  type ActivityAccessProvider,
  type RestrictedCourse,
  type RestrictionCondition,
  type ConditionNode,
  type ConditionLoad,
} from './modules/learning/index';
export { programServices, programViews, availabilityAt, type Availability, type ProgramsService } from './modules/programs/index';
export { assignmentServices, assignmentViews, type AssignmentService, type LaunchCandidate, type LaunchState } from './modules/assignment/index';
export { launchServices, type LaunchService } from './modules/launch/index';
export { learnerViewsServices, type LearnerViewsService, type LearnerStanding } from './modules/learner-views/index';
export {
  reportServices,
  reportFilterInvalid,
  type ReportsService,
  type ReportInfo,
  type ReportRequest,
  type ReportSource,
  type ReportOrder,
  type ReportColumn,
  type ReportFilters,
  type ReportRow,
  type ReportQueryContext,
} from './modules/reports/index';

export { allow, deny, abstain } from './kernel/hooks/hook-map';
export type {
  HookMap,
  GuardHook,
  WithinHook,
  EventHook,
  DeliveredEvent,
  CollectHook,
  FilterHook,
  GuardDecision,
  GuardOutcome,
  GuardExplanation,
  HookName,
  HandlerFor,
} from './kernel/hooks/hook-map';
export type { PluginHooks, TapOptions } from './kernel/hooks/bus';
// The core hook points' payloads, declared by the modules that own them.
export type { CourseLaunchArgs } from './modules/launch/index';
export {
  isAncestryOnlyChange,
  type AssignmentChange,
  type AssignmentChangeArgs,
  type AudienceMembershipBatch,
  type AudienceMembershipBatchArgs,
  type JobAssignmentSnapshot,
  type AudienceRuleCondition,
  type AudienceRuleContext,
  type AudienceCondition,
  type AudienceRuleNode,
} from './modules/people/index';
export type { CompletionArgs, CompletionsArgs } from './modules/learning/index';
export type { ProgramAssignmentArgs, ExceptionRaisedArgs, ExceptionsRaisedArgs, ExceptionType } from './modules/assignment/index';
export type { RecurrencePeriodStartedArgs } from './modules/programs/index';
export {
  extensionRequestServices,
  extensionRequestViews,
  type ExtensionRequestService,
  type ExtensionRequestView,
  type ExtensionRequestedArgs,
  type ExtensionDecidedArgs,
} from './modules/extension-requests/index';

export type { DashboardEntry, DashboardPanel, ExtensionPointMap, ExtensionPointName, NotificationChannel, OutgoingNotification } from './kernel/extensions';
export {
  resolvePick,
  pickState,
  postedPickState,
  pickerOf,
  firstByPrefix,
  mergePicks,
  PickError,
  PICK_LIMIT,
  type Picker,
  type PickItem,
  type PickState,
  type ResolveOptions,
} from './kernel/pickers';
export {
  createHierarchySource,
  instancePicker,
  type AssignmentSource,
  type AssignmentConflict,
  type RuleInstance,
  type SourceRule,
  type SourceContext,
  type DueDateEvent,
  type DueRule,
  type HierarchyInstance,
} from './modules/assignment/index';

export type { ApiRoute, ApiRequest, ApiResponse, PageRoute, RouteAccess, AuthUser, JsonSchema, HttpMethod, RouteParams } from './kernel/http/routes';
export {
  Id,
  UserId,
  DateInput,
  parseId,
  pathParams,
  queryParams,
  noParams,
  noQuery,
  pagingQuery,
  object,
  component,
  MAX_LIMIT,
  MAX_OFFSET,
} from './kernel/http/contract';
export type { JobContext, JobDefinition, JobHandler, ScheduleDefinition, EnqueueOptions, JobStatus, JobState } from './kernel/jobs/types';
export type { ThemeRegistrar } from './kernel/themes/types';

export type { Migration } from './kernel/db/migrations';
export type { Database, Executor, Dialect } from './kernel/db/database';
export { isUniqueViolation } from './kernel/db/database';
export { WaymarkError, notFound, forbidden, conflict, invalid, type ErrorDetail } from './kernel/errors';
export type { Logger } from './kernel/logging';
export { addDuration, isValidDuration, parseDuration } from './modules/programs/index';
export { isRetryableConflict } from './kernel/db/database';
export { chunk } from './kernel/db/sql';
export {
  seek,
  keysetPage,
  readPage,
  keyOfColumns,
  wherePrefix,
  encodeCursor,
  decodeCursor,
  type KeysetOrder,
  type SortKey,
  type KeyValue,
  type PagePosition,
  type KeysetPage,
} from './kernel/db/keyset';
export { cursorQuery, sortQuery, listResponse, pickOrder, pagePosition, pagePositionOf, pageLinks, type PageLinks } from './kernel/http/paging';
export { parseDateInput, type DateInputOptions } from './kernel/dates';
export type { SqlView } from './kernel/db/views';
export { queryRows, runStatement, prepareStatement, placeholders, type PreparedStatement, type StatementBinding } from './kernel/db/statements';
export { compileProgram, evaluateProgram, canLaunch } from './modules/programs/index';
export type { CompiledProgram, ProgramEvaluation, SetEvaluation, ProgramStructure, CourseSetDef } from './modules/programs/index';
export type { Knex } from 'knex';
