/* global document, URLSearchParams, FormData, fetch, clearTimeout, setTimeout */
// The audience rule editor's live "who matches" count. Without JavaScript the form's "Count who
// matches" button does the same through a full page load.
(function () {
  const form = document.querySelector('form[data-live-count]');
  if (!form) return;
  const output = form.querySelector('[data-count]');
  let timer = null;
  let latest = 0;
  async function refresh() {
    const asked = ++latest;
    const body = new URLSearchParams(new FormData(form));
    try {
      const res = await fetch(form.dataset.liveCount, { method: 'POST', body, headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      const data = await res.json();
      // An older answer arriving after a newer one must not overwrite it.
      if (asked !== latest) return;
      output.textContent = data.count === null ? data.message : `${data.count} user(s) match these conditions now.`;
    } catch {
      if (asked === latest) output.textContent = '';
    }
  }
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  };
  form.addEventListener('change', schedule);
  form.addEventListener('input', schedule);
  // A row's "which one" box searches what its chosen condition names (audiences, positions, courses ...).
  form.addEventListener('change', (e) => {
    const select = e.target;
    if (!select.matches || !select.matches('select[name^="cond_"]')) return;
    const picker = select.selectedOptions[0] && select.selectedOptions[0].dataset.picker;
    const box = select.closest('fieldset') && select.closest('fieldset').querySelector('[data-pick]');
    if (picker && box) box.dataset.pick = `/admin/pick/${picker}`;
  });
})();
