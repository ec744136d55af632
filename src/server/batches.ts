/** What `batched` needs: how to send one call, how to send several as one, and what two calls of one batch must not share. */
export interface BatchOptions<Item, Result> {
  /** Sends one call alone (no batch in flight, a batch of one, or a failed batch's calls one by one). */
  single(item: Item): Promise<Result>;
  /** Sends several calls as one; resolves to their results in the same order. */
  several(items: readonly Item[]): Promise<Result[]>;
  /** Calls with the same key never share a batch: the later one goes in the next. */
  key(item: Item): string;
  /** What a call adds to a batch (its statement's bytes, say); a batch takes calls up to `maxSize` (at least one). */
  size(item: Item): number;
  maxSize: number;
  /** Whether a failed batch's error is the database's, not a call's: the calls fail with it, not sent again one by one. */
  failsAll(error: unknown): boolean;
}

interface Waiting<Item, Result> {
  item: Item;
  resolve(result: Result): void;
  reject(error: unknown): void;
}

/**
 * Sends calls (e.g. one statement each) with at most one send in flight: a call made while
 * none is goes at once, alone; calls made while one is wait for it and then go together, as
 * one (`several`). Under load they share one statement, one commit and so one WAL flush,
 * however many; idle, a call waits for nothing. When a batch of several fails, each of its
 * calls is sent again alone, so one bad call fails alone (unless `failsAll`: the database is gone).
 */
export function batched<Item, Result>(options: BatchOptions<Item, Result>): (item: Item) => Promise<Result> {
  let queue: Waiting<Item, Result>[] = [];
  let sending = false;

  /** Sends one call alone and settles it (a `single` that throws at once fails its call, not the queue). */
  const alone = async (call: Waiting<Item, Result>) => {
    try {
      call.resolve(await options.single(call.item));
    } catch (error) {
      call.reject(error);
    }
  };

  const settle = async (batch: Waiting<Item, Result>[]) => {
    if (batch.length === 1) return alone(batch[0]!);
    let results: Result[];
    try {
      results = await options.several(batch.map((call) => call.item));
    } catch (error) {
      if (options.failsAll(error)) {
        for (const call of batch) call.reject(error);
        return;
      }
      for (const call of batch) await alone(call);
      return;
    }
    for (const [i, call] of batch.entries()) call.resolve(results[i]!);
  };

  /** Takes the next batch off the queue: in order, up to `maxSize`, no two calls with one key, none ahead of an earlier call with its key. */
  const take = () => {
    const batch: Waiting<Item, Result>[] = [];
    const rest: Waiting<Item, Result>[] = [];
    const keys = new Set<string>();
    let size = 0;
    for (const call of queue) {
      const key = options.key(call.item);
      const taken = keys.has(key);
      // A call left for later keeps its key taken too: a later call with it must not overtake it.
      keys.add(key);
      const grows = taken ? 0 : options.size(call.item);
      if (taken || (batch.length > 0 && size + grows > options.maxSize)) {
        rest.push(call);
        continue;
      }
      size += grows;
      batch.push(call);
    }
    queue = rest;
    return batch;
  };

  const drain = async () => {
    sending = true;
    try {
      while (queue.length > 0) await settle(take());
    } finally {
      sending = false;
    }
  };

  return (item) =>
    new Promise<Result>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!sending) void drain();
    });
}
