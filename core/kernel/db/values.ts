/**
 * Column values as the drivers return them, made uniform: booleans come back as 0/1 (and, on MySQL,
 * sometimes as strings), BIGINT epoch-millisecond times as numbers or strings.
 */
export const num = (v: unknown): number => Number(v);
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
export const bool = (v: unknown): boolean => v === true || v === 1 || v === '1';
/** A nullable epoch-ms column as an ISO-8601 UTC string (how the API shows times). */
export const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(Number(v)).toISOString());
