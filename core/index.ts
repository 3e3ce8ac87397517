/**
 * The public Waymark SDK: everything a plugin author may import. Plugins import from this module
 * (`../../core/index`) and nothing deeper, so core internals can change without breaking them.
 *
 * @packageDocumentation
 */
export { definePlugin } from './plugins/types';
export type {
  PluginDefinition,
  PluginManifest,
  PluginRegisterContext,
  PluginRuntimeContext,
  ExtensionRegistrar,
  PluginInfo,
  PluginState,
} from './plugins/types';
export { SDK_VERSION } from './plugins/sdk-version';

export { allow, deny, abstain } from './hooks/hook-map';
export type {
  HookMap,
  GuardHook,
  NotifyHook,
  CollectHook,
  FilterHook,
  GuardDecision,
  GuardOutcome,
  GuardExplanation,
  HookName,
  HandlerFor,
} from './hooks/hook-map';
export type { PluginHooks, TapOptions } from './hooks/bus';
export type {
  CourseLaunchArgs,
  AssignmentChange,
  AssignmentChangeArgs,
  JobAssignmentSnapshot,
  CompletionArgs,
  ProgramAssignmentArgs,
  ExceptionRaisedArgs,
} from './hooks/core-hooks';
export { isAncestryOnlyChange } from './hooks/core-hooks';

export type { ExtensionPointMap, ExtensionPointName } from './extensions';
export type { AssignmentSource, RuleInstance, SourceRule, SourceContext, DueDateEvent, DueRule } from './assignment/types';
export { createHierarchySource, type HierarchyInstance } from './assignment/hierarchy-source';

export type { ApiRoute, ApiRequest, ApiResponse, PageRoute, RouteAccess, AuthUser, JsonSchema, HttpMethod, RouteParams } from './http/routes';
export { Id, UserId, parseId, pathParams, queryParams, noParams, noQuery, pagingQuery, object, component, MAX_LIMIT, MAX_OFFSET } from './http/contract';
export type { JobContext, JobDefinition, JobHandler, ScheduleDefinition, EnqueueOptions, JobStatus, JobState } from './jobs/types';
export type { ThemeRegistrar } from './themes/types';

export type { Migration } from './db/migrations';
export type { Database, Executor, Dialect } from './db/database';
export { isUniqueViolation } from './db/database';
export { WaymarkError, notFound, forbidden, conflict, invalid, type ErrorDetail } from './errors';
export type { Logger } from './logging';
export type { Site } from './site';
export type { CoreServices } from './services';
export { addDuration, isValidDuration, parseDuration } from './programs/durations';
export { isRetryableConflict } from './db/database';
export { queryRows, runStatement, prepareStatement, placeholders, type PreparedStatement, type StatementBinding } from './db/statements';
export { compileProgram, evaluateProgram, canLaunch } from './programs/engine';
export type { CompiledProgram, ProgramEvaluation, SetEvaluation, ProgramStructure, CourseSetDef } from './programs/engine';
