/**
 * A proxy that records every method call on an object (and, to `depth`, on its sub-objects, such as
 * storage's repositories) into a trail, so a test can check what ran before an acknowledgement.
 */
export function recording<T extends object>(target: T, label: string, depth: number, trail: string[]): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop, t) as unknown;
      if (typeof prop === 'symbol') return value;
      if (!wrapped.has(prop)) {
        if (typeof value === 'function') {
          wrapped.set(prop, (...args: unknown[]) => {
            trail.push(`${label}.${prop}`);
            return (value as (...a: unknown[]) => unknown).apply(t, args);
          });
        } else if (depth > 0 && value && typeof value === 'object') {
          wrapped.set(prop, recording(value, `${label}.${prop}`, depth - 1, trail));
        } else {
          return value;
        }
      }
      return wrapped.get(prop);
    },
  });
}
