import type { Picker } from '../../kernel/pickers';

interface PickerLookup {
  get(point: 'pickers', key: string): { value: Picker } | undefined;
}

/**
 * The picker for what a rule's `instanceId` (or a due-date event's) names, so the rule form offers
 * it by name: the one the source or event names in `picker`, else one contributed under the
 * source's own `type` (a plugin that contributes a source and a picker of the same key needs no
 * more), else null (the form has no way to offer the thing by name: the source should name one).
 */
export function instancePicker(extensions: PickerLookup, thing: { picker?: string; type?: string }): Picker | null {
  if (thing.picker) return extensions.get('pickers', thing.picker)?.value ?? null;
  return thing.type ? (extensions.get('pickers', thing.type)?.value ?? null) : null;
}
