// cookie 0.7 (the version express and express-session use) ships no types; @types/cookie is now a
// stub for cookie 1.x. Only what Waymark calls is declared.
declare module 'cookie' {
  export interface ParseOptions {
    decode?(value: string): string;
  }
  /** Parses a Cookie header into name -> value (URL-decoded; the first of a repeated name wins). */
  export function parse(header: string, options?: ParseOptions): Record<string, string | undefined>;
}
