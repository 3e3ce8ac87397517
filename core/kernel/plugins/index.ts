/** The plugin SDK and manager, from one module. */
export * from './types';
export { SDK_VERSION } from './sdk-version';
export { PluginErrorCode } from './codes';
export { PluginManager, pluginMigrationSet } from './manager';
export { checkManifest, readManifest, manifestSchema, PLUGIN_ID_PATTERN, type PluginProblem, type ManifestCheck } from './manifest';
export { discoverPlugins, importPluginDefinition, type DiscoveredPlugin } from './discovery';
export { resolveLoadOrder, type LoadOrder } from './load-order';
export { createRegisterContext, createRuntimeContext, removeRegistrations } from './context';
