// A typed GraphQL call over fetch: the generated documents carry their
// result and variables types, so a wrong variable does not compile.
import type { TypedDocumentString, UserErrorFieldsFragment } from "./generated/graphql";

export class Switchboard {
  readonly #url: string;
  readonly #apiKey: string;

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

  async execute<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables): Promise<TResult> {
    const response = await fetch(this.#url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${this.#apiKey}` },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
    const body = (await response.json()) as { data?: TResult | null; errors?: { message: string }[] };
    if (body.errors?.length || body.data == null) {
      const messages = body.errors?.map((error) => error.message).join("; ") ?? "no data";
      throw new Error(`Switchboard answered HTTP ${response.status}: ${messages}`);
    }
    return body.data;
  }
}

/** The payload's result, or an error naming each broken rule (never the values sent). */
export function saved<T>(payload: { userErrors: UserErrorFieldsFragment[] }, result: T | null): T {
  if (payload.userErrors.length > 0 || result === null) {
    const rules = payload.userErrors.map((error) => `${error.code} at ${error.field.join(".")}: ${error.message}`);
    throw new Error(`refused: ${rules.join("; ")}`);
  }
  return result;
}
