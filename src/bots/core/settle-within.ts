/** Shutdown helper: waits for the promises in a set (and ones added meanwhile) up to ms; true when it emptied. */
export async function settleWithin(set: Set<Promise<unknown>>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (set.size > 0 && Date.now() < until) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...set]), new Promise((r) => (timer = setTimeout(r, Math.max(0, until - Date.now()))))]);
    clearTimeout(timer);
    await new Promise((r) => setImmediate(r)); // let the settled ones' finally() remove themselves
  }
  return set.size === 0;
}
