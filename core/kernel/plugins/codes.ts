/**
 * Stable codes for everything that can be wrong with a plugin. Tests, the CLI and the admin page
 * assert on these, never on message text; docs/plugin-authors.md lists them for authors.
 */
export const PluginErrorCode = {
  /** `id` is not frankenstyle `type_name` (lower case, one underscore after the type). */
  idPattern: 'PM001-ID-PATTERN',
  /** `id` differs from the folder name. */
  idFolderMismatch: 'PM002-ID-FOLDER-MISMATCH',
  /** `version` is not a semver version. */
  versionSemver: 'PM003-VERSION-SEMVER',
  /** `sdk` is not a semver range. */
  sdkRange: 'PM004-SDK-RANGE',
  /** `sdk` range does not include the running SDK_VERSION. */
  sdkIncompatible: 'PM005-SDK-INCOMPATIBLE',
  /** A plugin named in `requires` is not installed (no folder). */
  requiresMissing: 'PM006-REQUIRES-MISSING',
  /** A required plugin's version is outside the range asked for. */
  requiresVersion: 'PM007-REQUIRES-VERSION',
  /** The plugin is part of a dependency cycle. */
  requiresCycle: 'PM008-REQUIRES-CYCLE',
  /** plugin.json is not parseable JSON. */
  jsonInvalid: 'PM009-JSON-INVALID',
  /** The folder has no index.ts. */
  indexMissing: 'PM010-INDEX-MISSING',
  /** start() threw. */
  startFailed: 'PM011-START-FAILED',
  /** The database holds a newer version than the code: the site refuses to go backwards. */
  downgrade: 'PM012-DOWNGRADE',
  /** register() threw (for example tapping a hook not listed in plugin.json). */
  registerFailed: 'PM013-REGISTER-FAILED',
  /** index.ts's definePlugin id differs from plugin.json's id. */
  idMismatch: 'PM014-ID-MISMATCH',
  /** The folder has no plugin.json. */
  manifestMissing: 'PM015-MANIFEST-MISSING',
  /** plugin.json breaks the manifest schema: unknown field, missing field or wrong type. */
  manifestSchema: 'PM016-MANIFEST-SCHEMA',
  /** One of the plugin's migrations failed. */
  migrationFailed: 'PM017-MIGRATION-FAILED',
  /** A required plugin is disabled, invalid or errored, so this one cannot run. */
  dependencyInactive: 'PM018-DEPENDENCY-INACTIVE',
  /** Disable or uninstall refused: an enabled plugin requires this one. */
  requiredBy: 'PM019-REQUIRED-BY',
  /** index.ts threw while being imported, or has no default-exported definePlugin(). */
  importFailed: 'PM020-IMPORT-FAILED',
  /** Settings do not match the plugin's settingsSchema. */
  settingsInvalid: 'PM021-SETTINGS-INVALID',
  /** `settingsSchema` is not a valid JSON Schema. */
  settingsSchemaInvalid: 'PM022-SETTINGS-SCHEMA-INVALID',
  /** A `requires` value is not a semver range. */
  requiresRange: 'PM023-REQUIRES-RANGE',
  /** Enable refused: the plugin's package is invalid (see its own code). */
  pluginInvalid: 'PM024-PLUGIN-INVALID',
  /** Uninstall refused: the plugin's folder is gone, so its migrations cannot be rolled back. */
  codeMissing: 'PM025-CODE-MISSING',
} as const;

export type PluginErrorCode = (typeof PluginErrorCode)[keyof typeof PluginErrorCode];
