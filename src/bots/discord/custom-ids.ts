/**
 * custom_id formats. Buttons carry the edit (history) id, so they work after a restart: everything
 * else is read back from the database. Discord caps custom_id at 100 characters.
 */
export type ResultAction = 'weaker' | 'stronger' | 'sweep' | 'undo' | 'save' | 'delete';
const RESULT_ACTIONS: readonly ResultAction[] = ['weaker', 'stronger', 'sweep', 'undo', 'save', 'delete'];

export const resultButtonId = (action: ResultAction, editId: number) => `asyrp:r:${action}:${editId}`;
export const saveModalId = (editId: number) => `asyrp:save:${editId}`;
/** The context-menu picker: pickId is the key its state is stored under. */
export const pickSelectId = (pickId: string) => `asyrp:pk:${pickId}`;
export const pickStrengthId = (pickId: string, term: string, strength: number) => `asyrp:ps:${pickId}:${term}:${strength}`;

export type ParsedId =
  | { kind: 'result'; action: ResultAction; editId: number }
  | { kind: 'save'; editId: number }
  | { kind: 'pick'; pickId: string }
  | { kind: 'pick-strength'; pickId: string; term: string; strength: number };

export function parseCustomId(id: string): ParsedId | undefined {
  const p = id.split(':');
  if (p[0] !== 'asyrp') return undefined;
  if (p[1] === 'r' && RESULT_ACTIONS.includes(p[2] as ResultAction) && /^\d+$/.test(p[3] ?? '')) {
    return { kind: 'result', action: p[2] as ResultAction, editId: Number(p[3]) };
  }
  if (p[1] === 'save' && /^\d+$/.test(p[2] ?? '')) return { kind: 'save', editId: Number(p[2]) };
  if (p[1] === 'pk' && p[2]) return { kind: 'pick', pickId: p[2] };
  if (p[1] === 'ps' && p[2] && p[3] && Number.isFinite(Number(p[4]))) {
    return { kind: 'pick-strength', pickId: p[2], term: p[3], strength: Number(p[4]) };
  }
  return undefined;
}
