import path from 'node:path';
import { projectRoot } from '../../core/kernel/config';
import { definePluginContractSuite, pluginFolders, useSharedTestDatabase } from '../utils/plugin-contract';

// Every plugin shipped in plugins/ gets the contract suite with no test code of its own, plus the
// plugin-author guide's example so the documented plugin is known to pass it too.
const plugins = [...pluginFolders(path.join(projectRoot, 'plugins')), path.join(projectRoot, 'test', 'fixtures', 'plugins', 'local_hello')];

describe('plugin contract suite', () => {
  const database = useSharedTestDatabase();
  for (const dir of plugins) definePluginContractSuite(dir, { database });
});
