import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { WaymarkError } from '../errors';
import { PluginErrorCode } from './codes';
import { readManifest, type PluginProblem } from './manifest';
import type { PluginDefinition, PluginManifest } from './types';

/** A plugin folder found on disk, before any of its code is imported. */
export interface DiscoveredPlugin {
  /** The folder name (which a valid manifest's id must equal). */
  id: string;
  dir: string;
  /** The parsed manifest; null when plugin.json is missing, unparseable or fails the schema. */
  manifest: PluginManifest | null;
  /** Everything wrong with the folder; empty when the plugin may be loaded. */
  problems: PluginProblem[];
}

/**
 * Lists `<pluginsDir>/<id>/` folders and checks their plugin.json. Folders whose name starts with
 * `.` or `_` are skipped, so editors' and tools' folders never show up as broken plugins; so are
 * the ids in `skip` (the running site's poll re-reads only folders it has not settled).
 */
export function discoverPlugins(pluginsDir: string, skip: ReadonlySet<string> = new Set()): DiscoveredPlugin[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(pluginsDir, { withFileTypes: true });
  } catch {
    return [];
  }
  return (
    entries
      // A symlinked plugin folder (handy while developing a plugin elsewhere) counts as a folder.
      .filter((e) => !e.name.startsWith('.') && !e.name.startsWith('_') && isDirectory(path.join(pluginsDir, e.name)))
      .map((e) => e.name)
      .filter((id) => !skip.has(id))
      .sort()
      .map((id) => {
        const dir = path.join(pluginsDir, id);
        const check = readManifest(dir);
        // A schema failure still tells us what the author meant; keep what parsed for display.
        return { id, dir, manifest: check.manifest, problems: check.problems };
      })
  );
}

/**
 * Imports `<dir>/index.ts` and checks it default-exports a definePlugin() whose id matches the
 * manifest. Errors are WaymarkErrors with PM020 / PM014 codes.
 */
export async function importPluginDefinition(dir: string, manifest: PluginManifest): Promise<PluginDefinition> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(path.join(dir, 'index.ts')).href)) as { default?: unknown };
  } catch (error) {
    throw new WaymarkError(PluginErrorCode.importFailed, `${manifest.id}/index.ts failed to load: ${(error as Error).message}`, 500);
  }
  const definition = mod.default as Partial<PluginDefinition> | undefined;
  if (!definition || typeof definition !== 'object' || typeof definition.register !== 'function') {
    throw new WaymarkError(PluginErrorCode.importFailed, `${manifest.id}/index.ts must default-export definePlugin({ id, register })`, 500);
  }
  if (definition.id !== manifest.id) {
    throw new WaymarkError(
      PluginErrorCode.idMismatch,
      `${manifest.id}/index.ts declares id "${String(definition.id)}" but plugin.json says "${manifest.id}"`,
      500,
    );
  }
  return definition as PluginDefinition;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
