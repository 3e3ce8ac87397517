import type { Logger } from '../logging';
import type { AuthUser } from './routes';

/** Options of a page render: HTTP status (default 200) and layout (default `main`). */
export interface PageRenderOptions {
  status?: number;
  layout?: string | false;
}

/** `res.locals.render(view, data)`: renders a theme template as the response. */
export type PageRenderer = (view: string, data?: Record<string, unknown>, options?: PageRenderOptions) => void;

declare global {
  // Express merges request/response additions through this global namespace.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Echoed as the X-Request-Id response header and in every log line of the request. */
      reqId: string;
      /** `site.logger.child({ reqId })`. */
      logger: Logger;
      /** The caller on page routes (set before the handler runs); null when anonymous. */
      user?: AuthUser | null;
    }
    interface Locals {
      render: PageRenderer;
    }
  }
}

export {};
