import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import semver from 'semver';
import type { ErrorDetail } from '../errors';
import { PluginErrorCode } from './codes';
import { SDK_VERSION } from './sdk-version';
import type { PluginManifest } from './types';

/** Frankenstyle `type_name`: a lower-case plugin type, one underscore, a lower-case name. */
export const PLUGIN_ID_PATTERN = '^[a-z]+_[a-z][a-z0-9_]*$';
/** Core hooks are bare camelCase names; plugin hooks are `<pluginId>.<name>`. */
const HOOK_NAME_PATTERN = '^([a-z]+_[a-z][a-z0-9_]*\\.)?[a-zA-Z][a-zA-Z0-9_]*$';

/** The JSON Schema of plugin.json (strict: unknown fields are errors, so typos never pass silently). */
export const manifestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'version', 'sdk'],
  properties: {
    id: { type: 'string', pattern: PLUGIN_ID_PATTERN, maxLength: 100 },
    name: { type: 'string', minLength: 1, maxLength: 255 },
    version: { type: 'string', minLength: 1, maxLength: 50 },
    sdk: { type: 'string', minLength: 1 },
    requires: {
      type: 'object',
      propertyNames: { pattern: PLUGIN_ID_PATTERN },
      additionalProperties: { type: 'string', minLength: 1 },
    },
    hooks: { type: 'array', uniqueItems: true, items: { type: 'string', pattern: HOOK_NAME_PATTERN } },
    settingsSchema: { type: 'object' },
    defaultEnabled: { type: 'boolean' },
    description: { type: 'string' },
  },
} as const;

import { addFormKeywords } from '../http/schema-form';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const manifestAjv = new Ajv({ allErrors: true, strict: true });
const validateShape = manifestAjv.compile(manifestSchema);

/** A second Ajv for plugin settings schemas: defaults are applied while validating. */
export function createSettingsAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: true });
  addFormats(ajv);
  addFormKeywords(ajv);
  return ajv;
}
const settingsAjv = createSettingsAjv();

/** One thing wrong with a plugin, with its stable code. */
export interface PluginProblem extends ErrorDetail {
  code: string;
}

export interface ManifestCheck {
  manifest: PluginManifest | null;
  /** Empty when the manifest is valid. The first entry is the plugin's reported error. */
  problems: PluginProblem[];
}

function shapeProblem(error: ErrorObject): PluginProblem {
  const where = error.instancePath.replace(/^\//, '') || '(root)';
  if (error.instancePath === '/id' && error.keyword === 'pattern') {
    return { path: 'id', code: PluginErrorCode.idPattern, message: `id must be frankenstyle type_name (${PLUGIN_ID_PATTERN})` };
  }
  const extra = error.keyword === 'additionalProperties' ? ` "${String((error.params as { additionalProperty?: string }).additionalProperty)}"` : '';
  return { path: where, code: PluginErrorCode.manifestSchema, message: `${where} ${error.message ?? 'is invalid'}${extra}` };
}

/**
 * Checks a parsed plugin.json against the schema and the running SDK. Pure: no plugin code is
 * imported, so a broken plugin can still be listed and disabled.
 */
export function checkManifest(raw: unknown, folder: string): ManifestCheck {
  if (!validateShape(raw)) return { manifest: null, problems: (validateShape.errors ?? []).map(shapeProblem) };
  const manifest = raw as PluginManifest;
  const problems: PluginProblem[] = [];
  if (manifest.id !== folder) {
    problems.push({ path: 'id', code: PluginErrorCode.idFolderMismatch, message: `id "${manifest.id}" must equal its folder name "${folder}"` });
  }
  if (!semver.valid(manifest.version)) {
    problems.push({ path: 'version', code: PluginErrorCode.versionSemver, message: `version "${manifest.version}" is not a semver version (e.g. 1.2.0)` });
  }
  if (!semver.validRange(manifest.sdk)) {
    problems.push({ path: 'sdk', code: PluginErrorCode.sdkRange, message: `sdk "${manifest.sdk}" is not a semver range (e.g. ^1.0.0)` });
  } else if (!semver.satisfies(SDK_VERSION, manifest.sdk)) {
    problems.push({ path: 'sdk', code: PluginErrorCode.sdkIncompatible, message: `sdk "${manifest.sdk}" does not include this site's SDK ${SDK_VERSION}` });
  }
  for (const [dep, range] of Object.entries(manifest.requires ?? {})) {
    if (!semver.validRange(range)) {
      problems.push({ path: `requires/${dep}`, code: PluginErrorCode.requiresRange, message: `requires.${dep} "${range}" is not a semver range` });
    }
  }
  if (manifest.settingsSchema) {
    try {
      settingsAjv.compile(manifest.settingsSchema);
    } catch (error) {
      problems.push({
        path: 'settingsSchema',
        code: PluginErrorCode.settingsSchemaInvalid,
        message: `settingsSchema is not a valid JSON Schema: ${(error as Error).message}`,
      });
    }
  }
  return { manifest: problems.length ? null : manifest, problems };
}

/** Reads `<pluginDir>/plugin.json` and checks it; missing or unparseable files are problems too. */
export function readManifest(pluginDir: string): ManifestCheck {
  const folder = path.basename(pluginDir);
  const file = path.join(pluginDir, 'plugin.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { manifest: null, problems: [{ code: PluginErrorCode.manifestMissing, message: `${folder}/plugin.json is missing` }] };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return {
      manifest: null,
      problems: [{ code: PluginErrorCode.jsonInvalid, message: `${folder}/plugin.json is not valid JSON: ${(error as Error).message}` }],
    };
  }
  const check = checkManifest(raw, folder);
  if (check.manifest && !fs.existsSync(path.join(pluginDir, 'index.ts'))) {
    return { manifest: null, problems: [{ code: PluginErrorCode.indexMissing, message: `${folder}/index.ts is missing` }] };
  }
  return check;
}
