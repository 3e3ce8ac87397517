import type { Request, Response } from 'express';
import type { KernelCore } from '../parts';
import type { PageRenderOptions } from './request';

/** Renders a theme view as the response, with the viewer, language and request id in the data. */
export function renderPage(
  site: Pick<KernelCore, 'themes'>,
  req: Request,
  res: Response,
  view: string,
  data: Record<string, unknown> = {},
  options: PageRenderOptions = {},
): void {
  const user = req.user ?? null;
  const html = site.themes.render(
    view,
    { user, lang: user?.lang ?? 'en', reqId: req.reqId, csrfToken: res.locals.csrfToken ?? '', ...data },
    { layout: options.layout },
  );
  res
    .status(options.status ?? 200)
    .type('html')
    .send(html);
}
