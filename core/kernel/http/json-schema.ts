/** A JSON Schema object (draft 2020-12 subset that Ajv and OpenAPI 3.1 share). */
export type JsonSchema = Record<string, unknown>;
