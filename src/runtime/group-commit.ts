/**
 * Group commit for one kind of statement: items that arrive while `concurrency` statements are
 * already in flight wait, and go out together in the next one (one statement, one commit, one
 * WAL flush for all of them); each caller's promise settles once its statement is done. At low
 * load an item goes out at once, alone. A statement that fails is tried again item by item, so
 * one item PostgreSQL will not take never fails its neighbours.
 *
 * `run` gets a batch and answers one result per item, in the batch's order.
 */
export interface GroupCommit<I, O> {
  submit(item: I): Promise<O>;
}

export function groupCommit<I, O>(options: { concurrency: number; maxBatch: number; run: (batch: I[]) => Promise<O[]> }): GroupCommit<I, O> {
  interface Waiting {
    item: I;
    resolve: (result: O) => void;
    reject: (error: unknown) => void;
  }
  const waiting: Waiting[] = [];
  let inFlight = 0;

  async function send(batch: Waiting[]): Promise<void> {
    let results: O[];
    try {
      results = await options.run(batch.map((w) => w.item));
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      await Promise.all(batch.map((one) => send([one])));
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i]!));
  }

  function pump(): void {
    while (inFlight < options.concurrency && waiting.length > 0) {
      const batch = waiting.splice(0, options.maxBatch);
      inFlight += 1;
      void send(batch).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        pump();
      });
    },
  };
}
