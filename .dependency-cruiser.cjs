/**
 * Import rules (ARCHITECTURE.md, Layout), checked in `npm test`:
 * - no cycles anywhere (type-only imports count: a cycle of types is still a cycle to its reader);
 * - the kernel knows no feature: it imports no module, no plugin, not the composition root;
 * - a module reaches another module only through that module's index;
 * - plugins import only the public SDK (core/index.ts).
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles make load order fragile and every part depend on every other.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'kernel-knows-no-feature',
      severity: 'error',
      comment: 'The kernel must not import core modules, plugins, the composition root or the SDK.',
      from: { path: '^core/kernel/' },
      to: { path: ['^core/modules/', '^plugins/', '^core/site\\.ts$', '^core/index\\.ts$'] },
    },
    {
      name: 'modules-meet-through-index',
      severity: 'error',
      comment: "A module reaches another module only through that module's index.ts.",
      from: { path: '^core/modules/([^/]+)/' },
      to: { path: '^core/modules/([^/]+)/', pathNot: ['^core/modules/$1/', '^core/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'modules-do-not-use-the-sdk',
      severity: 'error',
      comment: 'core/index.ts re-exports the modules; a module importing it would import itself.',
      from: { path: '^core/modules/' },
      to: { path: ['^core/index\\.ts$', '^core/site\\.ts$', '^plugins/'] },
    },
    {
      name: 'plugins-use-only-the-sdk',
      severity: 'error',
      comment: 'Plugins import core only through core/index.ts, so core internals can change under them.',
      from: { path: '^plugins/([^/]+)/' },
      to: { path: '^(core|db|scripts|test)/', pathNot: '^core/index\\.ts$' },
    },
    {
      name: 'plugins-do-not-import-each-other',
      severity: 'error',
      comment: 'Plugins cooperate through hooks, extension points and declared services, not imports.',
      from: { path: '^plugins/([^/]+)/' },
      to: { path: '^plugins/', pathNot: '^plugins/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.json'] },
  },
};
