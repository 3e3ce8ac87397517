/**
 * What a browser would post for a form on a page, without a browser: the successful controls of the
 * form (HTML "constructing the entry list"), for tests and benchmarks that post a page's own form
 * back. Handles what the operator forms use: text and hidden inputs (line breaks stripped, as text
 * fields do), ticked checkboxes, selects (the selected option, else the first), textareas (the
 * newline right after the start tag dropped, line breaks sent as CRLF). Submit buttons are left
 * out; add the one "clicked" yourself.
 */

/** The HTML entities Handlebars writes, back to text. */
export function decodeHtml(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

const attr = (attrs: string, name: string): string | undefined => {
  const match = new RegExp(`\\b${name}="([^"]*)"`).exec(attrs);
  return match ? decodeHtml(match[1]!) : undefined;
};

/** The fields of the first `<form>` whose start tag contains `marker`, in document order. */
export function formEntries(html: string, marker: string): Array<[string, string]> {
  const start = html.indexOf(marker);
  if (start < 0) throw new Error(`no form matching ${marker}`);
  const from = html.lastIndexOf('<form', start);
  const body = html.slice(from, html.indexOf('</form>', start));
  const entries: Array<[string, string]> = [];
  const controls = /<input\b([^>]*)>|<select\b([^>]*)>([\s\S]*?)<\/select>|<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/g;
  for (const [, inputAttrs, selectAttrs, options, areaAttrs, text] of body.matchAll(controls)) {
    const attrs = inputAttrs ?? selectAttrs ?? areaAttrs!;
    const name = attr(attrs, 'name');
    if (!name || /\bdisabled\b/.test(attrs)) continue;
    if (inputAttrs !== undefined) {
      const type = attr(attrs, 'type') ?? 'text';
      if (type === 'submit' || type === 'button' || type === 'image' || type === 'reset') continue;
      if ((type === 'checkbox' || type === 'radio') && !/\bchecked\b/.test(attrs)) continue;
      const value = attr(attrs, 'value') ?? (type === 'checkbox' || type === 'radio' ? 'on' : '');
      entries.push([name, type === 'hidden' ? value : value.replace(/[\r\n]/g, '')]);
    } else if (selectAttrs !== undefined) {
      const all = [...options!.matchAll(/<option\b([^>]*)>/g)].map(([, a]) => a!);
      const chosen = all.filter((a) => /\bselected\b/.test(a));
      for (const a of chosen.length ? chosen : all.slice(0, 1)) entries.push([name, attr(a, 'value') ?? '']);
    } else {
      entries.push([
        name,
        decodeHtml(text!)
          .replace(/^\r?\n/, '')
          .replace(/\r?\n/g, '\r\n'),
      ]);
    }
  }
  return entries;
}

/** The entries as an object supertest's `.type('form').send()` posts (repeated names as arrays). */
export function formObject(entries: Array<[string, string]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of entries) {
    const previous = out[name];
    out[name] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return out;
}

/** The value of the option shown with this label in the page (operators pick by what they read). */
export function optionValue(page: string, label: string): string {
  for (const [, value, shown] of page.matchAll(/<option value="([^"]*)"[^>]*>([^<]*)<\/option>/g)) {
    if (decodeHtml(shown!) === label) return decodeHtml(value!);
  }
  throw new Error(`no option labelled ${label}`);
}
