/**
 * A steady load for shutdown tests: `clients` loops, each sending one request after another and
 * recording every outcome, with when it started, so a test can tell requests sent before a
 * signal from those sent after it.
 */
export interface Outcome<I, T> {
  client: number;
  input: I;
  startedAt: number;
  /** Set once the request has settled. */
  endedAt?: number;
  result?: { ok: true; value: T } | { ok: false; error: string };
}

export interface Load<I, T> {
  /** Every request sent so far, settled or not, in the order they were sent. */
  readonly outcomes: ReadonlyArray<Outcome<I, T>>;
  /** The request each client has outstanding right now. */
  inFlight(): Array<Outcome<I, T>>;
  /** How many requests got their normal answer so far. */
  normalCount(): number;
  /** Stops sending and waits for every outstanding request to settle. */
  stop(): Promise<void>;
}

export function runLoad<I, T>(opts: {
  clients: number;
  /** The next request's input (ids are made here, so a failed request still says what it was). */
  next: (client: number) => I;
  send: (input: I) => Promise<T>;
  /** The normal answer. A client stops at its first other answer (a refusal: the service is draining). */
  normal: (value: T) => boolean;
  /** How a failed send is described (e.g. the system-call code of a network error). */
  describe: (err: unknown) => string;
}): Load<I, T> {
  const outcomes: Array<Outcome<I, T>> = [];
  const current = new Map<number, Outcome<I, T>>();
  let stopped = false;
  const loop = async (client: number) => {
    while (!stopped) {
      const outcome: Outcome<I, T> = { client, input: opts.next(client), startedAt: Date.now() };
      outcomes.push(outcome);
      current.set(client, outcome);
      try {
        outcome.result = { ok: true, value: await opts.send(outcome.input) };
      } catch (err) {
        outcome.result = { ok: false, error: opts.describe(err) };
      }
      outcome.endedAt = Date.now();
      current.delete(client);
      if (!outcome.result.ok || !opts.normal(outcome.result.value)) return;
    }
  };
  const loops = Array.from({ length: opts.clients }, (_, i) => loop(i));
  return {
    outcomes,
    inFlight: () => [...current.values()],
    normalCount: () => outcomes.filter((o) => o.result?.ok && opts.normal(o.result.value)).length,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}
