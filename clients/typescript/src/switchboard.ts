// A typed GraphQL call over fetch: the generated documents carry their
// result and variables types, so a wrong variable does not compile, and
// their ids.
import type { TypedDocumentString, UserErrorFieldsFragment } from "./generated/graphql";

interface Answer<TResult> {
  status: number;
  body: { data?: TResult | null; errors?: { message: string; extensions?: { code?: string } }[] };
}

export class Switchboard {
  readonly #url: string;
  readonly #apiKey: string;
  // Documents go by their id until the server says it does not know one.
  #byId = true;

  constructor(url: string, apiKey: string) {
    this.#url = url;
    this.#apiKey = apiKey;
  }

  static fromEnvironment(): Switchboard {
    const apiKey = process.env.SWITCHBOARD_API_KEY;
    if (!apiKey) {
      throw new Error("Set SWITCHBOARD_API_KEY to an API key: switchboard create-api-key --org NAME");
    }
    return new Switchboard(process.env.SWITCHBOARD_URL ?? "http://127.0.0.1:8000/graphql", apiKey);
  }

  // Each document is sent by its id (GraphQL over HTTP's persisted documents: "sha256:<hash>"), which the
  // server knows from the manifest codegen writes, src/generated/persisted-documents.json
  // (SWITCHBOARD_PERSISTED_DOCUMENTS). A server without it answers PERSISTED_QUERY_NOT_FOUND: from then on
  // the documents' text goes instead.
  async execute<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables): Promise<TResult> {
    const documentId: unknown = document.__meta__?.hash;
    if (this.#byId && typeof documentId === "string") {
      const answer = await this.#post<TResult>({ documentId, variables });
      if (answer.body.errors?.[0]?.extensions?.code !== "PERSISTED_QUERY_NOT_FOUND") {
        return dataOf(answer);
      }
      this.#byId = false;
    }
    return dataOf(await this.#post<TResult>({ query: document.toString(), variables }));
  }

  async #post<TResult>(body: object): Promise<Answer<TResult>> {
    const response = await fetch(this.#url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${this.#apiKey}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Answer<TResult>["body"] };
  }
}

function dataOf<TResult>({ status, body }: Answer<TResult>): TResult {
  if (body.errors?.length || body.data == null) {
    const messages = body.errors?.map((error) => error.message).join("; ") ?? "no data";
    throw new Error(`Switchboard answered HTTP ${status}: ${messages}`);
  }
  return body.data;
}

/** The payload's result, or an error naming each broken rule (never the values sent). */
export function saved<T>(payload: { userErrors: UserErrorFieldsFragment[] }, result: T | null): T {
  if (payload.userErrors.length > 0 || result === null) {
    const rules = payload.userErrors.map((error) => `${error.code} at ${error.field.join(".")}: ${error.message}`);
    throw new Error(`refused: ${rules.join("; ")}`);
  }
  return result;
}
