/**
 * Items gathered in the isolate per key and sent together: a batch opens
 * with its first item and is sent `waitMs` later, or at once when it holds
 * `max`. Each `add` resolves with its own item's result once its batch is
 * sent; a caller hands that promise to `waitUntil`, so the isolate lives
 * until the batch it joined has gone. The batch is sent with the `send` of
 * its first item (its request's bindings); an item arriving while a batch is
 * being sent opens the next.
 */
export function keyedBatches<T, R>(limits: { waitMs: number; max: number }) {
  type Batch = { items: T[]; sendNow: () => void; results: Promise<R[]> };
  const open = new Map<string, Batch>();

  function openBatch(key: string, send: (items: T[]) => Promise<R[]>): Batch {
    let go: () => void = () => {};
    const due = new Promise<void>((resolve) => {
      go = resolve;
    });
    const items: T[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const batch: Batch = {
      items,
      sendNow: () => {
        clearTimeout(timer);
        if (open.get(key) === batch) open.delete(key);
        go();
      },
      results: due.then(() => send(items)),
    };
    timer = setTimeout(batch.sendNow, limits.waitMs);
    open.set(key, batch);
    return batch;
  }

  return {
    add(key: string, item: T, send: (items: T[]) => Promise<R[]>): Promise<R> {
      const batch = open.get(key) ?? openBatch(key, send);
      const index = batch.items.push(item) - 1;
      if (batch.items.length >= limits.max) batch.sendNow();
      return batch.results.then((results) => {
        if (index >= results.length) throw new Error(`batch ${key} sent no result for item ${index}`);
        return results[index] as R;
      });
    },
  };
}
