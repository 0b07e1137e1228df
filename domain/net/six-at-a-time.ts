/** The platform's limit on a Worker's or Durable Object's open outgoing connections. */
const OUTGOING_CONNECTIONS = 6;

/**
 * `fn` over every item, at most six at once (the rest would queue inside the
 * runtime anyway, holding memory); results in the items' order.
 */
export async function sixAtATime<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += OUTGOING_CONNECTIONS) {
    results.push(...(await Promise.all(items.slice(i, i + OUTGOING_CONNECTIONS).map(fn))));
  }
  return results;
}
