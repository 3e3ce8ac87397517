/**
 * The public Waymark SDK: everything a plugin author may import. Plugins import from this module
 * (`../../core/index`) and nothing deeper, so core internals can change without breaking them.
 *
 * @packageDocumentation
 */
export { definePlugin } from './kernel/plugins/types';
export type {
  PluginDefinition,
  PluginManifest,
  PluginRegisterContext,
  PluginRuntimeContext,
  ExtensionRegistrar,
  PluginInfo,
  PluginState,
} from './kernel/plugins/types';
export { SDK_VERSION } from './kernel/plugins/sdk-version';

export { allow, deny, abstain } from './kernel/hooks/hook-map';
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
} from './kernel/hooks/hook-map';
export type { PluginHooks, TapOptions } from './kernel/hooks/bus';
export type {
  CourseLaunchArgs,
  AssignmentChange,
  AssignmentChangeArgs,
  JobAssignmentSnapshot,
  CompletionArgs,
  ProgramAssignmentArgs,
  ExceptionRaisedArgs,
} from './kernel/hooks/core-hooks';
export { isAncestryOnlyChange } from './kernel/hooks/core-hooks';

export type { ExtensionPointMap, ExtensionPointName } from './kernel/extensions';
export type { AssignmentSource, RuleInstance, SourceRule, SourceContext, DueDateEvent, DueRule } from './modules/assignment/types';
export { createHierarchySource, type HierarchyInstance } from './modules/assignment/hierarchy-source';

export type { ApiRoute, ApiRequest, ApiResponse, PageRoute, RouteAccess, AuthUser, JsonSchema, HttpMethod } from './kernel/http/routes';
export type { JobContext, JobDefinition, JobHandler, ScheduleDefinition, EnqueueOptions, JobStatus, JobState } from './kernel/jobs/types';
export type { ThemeRegistrar } from './kernel/themes/types';

export type { Migration } from './kernel/db/migrations';
export type { Database, Executor, Dialect } from './kernel/db/database';
export { isUniqueViolation } from './kernel/db/database';
export { WaymarkError, notFound, forbidden, conflict, invalid, type ErrorDetail } from './kernel/errors';
export type { Logger } from './kernel/logging';
export type { Site } from './site';
export type { CoreServices } from './services';
export { addDuration, isValidDuration, parseDuration } from './modules/programs/durations';
export { isRetryableConflict } from './kernel/db/database';
export { queryRows, runStatement, prepareStatement, placeholders, type PreparedStatement, type StatementBinding } from './kernel/db/statements';
export { compileProgram, evaluateProgram, canLaunch } from './modules/programs/engine';
export type { CompiledProgram, ProgramEvaluation, SetEvaluation, ProgramStructure, CourseSetDef } from './modules/programs/engine';
