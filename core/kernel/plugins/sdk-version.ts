/**
 * Version of the plugin SDK (the contract in core/kernel/plugins/types.ts and the hook map). A plugin's
 * `sdk` range in plugin.json is checked against it before the plugin's code is imported.
 * Bump the major version when a change would break existing plugins.
 */
export const SDK_VERSION = '1.0.0';
