/* global document, fetch, DOMParser, CustomEvent, URL, FormData, URLSearchParams */
// Generated forms (core/kernel/http/schema-form.ts) without a round trip: choosing an assignment
// source, or a due-date event, swaps the form below for the one the server generates for that
// choice. Without JavaScript the "Next" and "Show the event's fields" buttons do the same by
// submitting; the server's form is the only form there is.
(function () {
  function swap(html, selector, after) {
    const fresh = new DOMParser().parseFromString(html, 'text/html').querySelector(selector);
    const old = document.querySelector(selector);
    if (old && fresh) old.replaceWith(fresh);
    else if (fresh && after) after.after(fresh);
    else if (old) old.remove();
    const placed = document.querySelector(selector);
    if (placed) {
      wire(placed);
      placed.dispatchEvent(new CustomEvent('waymark:content', { bubbles: true }));
    }
  }

  function wire(root) {
    root.querySelectorAll('select[data-autosubmit]').forEach((select) => {
      if (select.dataset.autosubmitReady) return;
      select.dataset.autosubmitReady = '1';
      const form = select.form;
      const button = form.querySelector('[data-autosubmit-button]');
      // .button sets display, which would override the hidden attribute.
      if (button) button.style.display = 'none';
      // Read as attributes: a control named "action" (the submit buttons) shadows form.action.
      const action = new URL(form.getAttribute('action') || '', document.baseURI);
      action.hash = '';
      select.addEventListener('change', async () => {
        try {
          if ((form.getAttribute('method') || 'get').toLowerCase() === 'get') {
            const url = new URL(action);
            url.search = new URLSearchParams(new FormData(form)).toString();
            const res = await fetch(url, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
            if (!res.ok) throw new Error(String(res.status));
            swap(await res.text(), '#rule-form', form);
          } else {
            const data = new FormData(form);
            data.set('action', button ? button.value : 'event');
            const res = await fetch(action, { method: 'POST', body: new URLSearchParams(data), headers: { Accept: 'text/html' }, credentials: 'same-origin' });
            if (!res.ok) throw new Error(String(res.status));
            swap(await res.text(), `#${form.id}`, null);
          }
        } catch {
          // The server's own round trip still works.
          if (button) button.click();
          else form.submit();
        }
      });
    });
  }
  wire(document);
})();
