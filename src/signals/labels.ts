/**
 * Label rules: a submission's labels must all be in the taxonomy, at least one of them a
 * category (`suicide`, `self_harm`, or one an admin added); duplicates are dropped and the
 * result is sorted so that equal label sets compare equal.
 */
import { InputError } from '../errors.js';

export type LabelKind = 'category' | 'modifier';

export interface Label {
  readonly name: string;
  readonly kind: LabelKind;
  readonly description: string;
}

/** Label name → kind, as loaded from the taxonomy table. */
export type Taxonomy = ReadonlyMap<string, LabelKind>;

export const LABEL_NAME_RE = /^[a-z][a-z0-9_]{1,63}$/;

/** Validates labels against the taxonomy; `requireCategory` for submissions. */
export function normaliseLabels(labels: readonly string[], taxonomy: Taxonomy, requireCategory: boolean): string[] {
  const unique = [...new Set(labels)].sort();
  let categories = 0;
  for (const label of unique) {
    const kind = taxonomy.get(label);
    if (kind === undefined) {
      const shown = label.length > 64 ? `a label of ${label.length} characters` : JSON.stringify(label);
      throw new InputError('ERR_INVALID_LABEL', `Unknown label ${shown}; GET /v1/taxonomy lists the labels`);
    }
    if (kind === 'category') categories++;
  }
  if (requireCategory && categories === 0) {
    const names = [...taxonomy].filter(([, kind]) => kind === 'category').map(([name]) => name);
    throw new InputError('ERR_INVALID_LABEL', `At least one category label is required (${names.join(', ')})`);
  }
  return unique;
}

/** The sorted union of several label sets. */
export function unionLabels(sets: Iterable<readonly string[]>): string[] {
  const union = new Set<string>();
  for (const set of sets) for (const label of set) union.add(label);
  return [...union].sort();
}
