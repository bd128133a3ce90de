import { EngineError } from '../../src/engine/errors.js';

/** The EngineError code fn throws, or 'no error'; any other throw fails the test as itself. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof EngineError) return e.code;
    throw e;
  }
  return 'no error';
}
