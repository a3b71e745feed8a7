/** One GraphQL request of the demo: its data, or an error saying what the API answered. */
export type GraphQLRequest = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'GraphQLRequestError';
  }
}

/** Requests to the gateway at `url` with `apiKey` as the Bearer credential, each with a deadline. */
export function graphqlClient(url: string, apiKey: string, deadlineMs = 15_000): GraphQLRequest {
  return async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(deadlineMs),
    });
    const json = (await res.json()) as { data?: T | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
    const [error] = json.errors ?? [];
    if (error) throw new GraphQLRequestError(`${error.extensions?.code ?? `HTTP ${res.status}`}: ${error.message}`, error.extensions?.code);
    if (!json.data) throw new GraphQLRequestError(`HTTP ${res.status} without data`, undefined);
    return json.data;
  };
}
