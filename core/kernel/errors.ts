/**
 * Errors that carry a stable code and an HTTP status, so the API, the CLI and tests can all
 * assert on the code rather than on message text.
 */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 422 | 500 | 503;

export interface ErrorDetail {
  /** JSON pointer or field path the detail is about, when there is one. */
  path?: string;
  code?: string;
  message: string;
}

export class WaymarkError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: ErrorStatus = 400,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'WaymarkError';
  }

  toJSON(): { error: { code: string; message: string; details: ErrorDetail[] } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export const notFound = (what: string, id?: string | number): WaymarkError =>
  new WaymarkError('NOT_FOUND', id === undefined ? `${what} not found` : `${what} ${id} not found`, 404);

export const forbidden = (message = 'You may not do that'): WaymarkError => new WaymarkError('FORBIDDEN', message, 403);

export const conflict = (code: string, message: string): WaymarkError => new WaymarkError(code, message, 409);

export const invalid = (code: string, message: string, details: ErrorDetail[] = []): WaymarkError => new WaymarkError(code, message, 422, details);
