import type { RequestHandler } from 'express';
import { WaymarkError } from '../errors';

/** How deep a request body may nest (objects and arrays). Real bodies need fewer than 10 levels. */
export const MAX_BODY_DEPTH = 32;

/** The longest URL (path and query) the server answers; longer is 414 URI_TOO_LONG. */
export const MAX_URL_LENGTH = 16 * 1024;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const pointer = (path: Array<string | number>): string =>
  path.length ? `/${path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}` : '/';

/**
 * Walks a parsed body without recursion (so a hostile nesting cannot overflow the stack) and
 * rejects what no route can store correctly: nesting deeper than `MAX_BODY_DEPTH` (400
 * JSON_TOO_DEEP) and strings or keys holding a lone UTF-16 surrogate such as `"\ud800"` (422
 * INVALID_UNICODE: it has no UTF-8 form, so it would be stored corrupted).
 */
export function checkJsonInput(body: unknown, maxDepth = MAX_BODY_DEPTH): void {
  const stack: Array<{ value: unknown; depth: number; path: Array<string | number> }> = [{ value: body, depth: 0, path: [] }];
  while (stack.length) {
    const { value, depth, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) throw invalidUnicode(path);
      continue;
    }
    if (!value || typeof value !== 'object') continue;
    if (depth >= maxDepth) {
      throw new WaymarkError('JSON_TOO_DEEP', `The request body nests deeper than ${maxDepth} levels`, 400, [
        { path: pointer(path.slice(0, maxDepth)), code: 'JSON_TOO_DEEP', message: `nests deeper than ${maxDepth} levels` },
      ]);
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], depth: depth + 1, path: [...path, i] });
    } else {
      for (const [key, child] of Object.entries(value)) {
        if (LONE_SURROGATE.test(key)) throw invalidUnicode([...path, key]);
        stack.push({ value: child, depth: depth + 1, path: [...path, key] });
      }
    }
  }
}

function invalidUnicode(path: Array<string | number>): WaymarkError {
  const at = pointer(path);
  return new WaymarkError('INVALID_UNICODE', `${at} holds a lone UTF-16 surrogate, which is not valid text`, 422, [
    { path: at, code: 'INVALID_UNICODE', message: 'holds a lone UTF-16 surrogate' },
  ]);
}

/** Middleware after the body parsers: applies `checkJsonInput` to every parsed body. */
export function boundBodies(): RequestHandler {
  return (req, _res, next) => {
    try {
      if (req.body && typeof req.body === 'object') checkJsonInput(req.body);
      next();
    } catch (error) {
      next(error);
    }
  };
}

/** Middleware first in line: a URL over `MAX_URL_LENGTH` is 414 before any routing or parsing. */
export function boundUrls(): RequestHandler {
  return (req, _res, next) => {
    if (req.originalUrl.length > MAX_URL_LENGTH) return next(uriTooLong());
    next();
  };
}

export function uriTooLong(): WaymarkError {
  return Object.assign(new WaymarkError('URI_TOO_LONG', `The URL is longer than ${MAX_URL_LENGTH} bytes`, 400), { httpStatus: 414 });
}
