/* global document, fetch, clearTimeout, setTimeout, URLSearchParams, Event */
// Type-ahead for the `pick` partial: suggests names as the operator types, from
// GET /admin/pick/:picker?q=. Without JavaScript the same form works by submitting the typed name.
(function () {
  let serial = 0;
  function enhance(box) {
    const input = box.querySelector('[data-pick-input]');
    const was = box.querySelector('[data-pick-was]');
    if (!input || !was || box.dataset.pickReady) return;
    box.dataset.pickReady = '1';
    const listId = `${input.id}-list-${++serial}`;
    const list = document.createElement('ul');
    list.id = listId;
    list.className = 'pick-list';
    list.setAttribute('role', 'listbox');
    list.hidden = true;
    box.insertBefore(list, input.nextSibling);
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', listId);
    let timer = null;
    let asked = 0;
    let active = -1;

    const options = () => [...list.querySelectorAll('[role="option"]')];
    const close = () => {
      list.hidden = true;
      list.textContent = '';
      active = -1;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
    };
    const highlight = (index) => {
      const all = options();
      all.forEach((o, i) => o.setAttribute('aria-selected', i === index ? 'true' : 'false'));
      active = index;
      if (all[index]) input.setAttribute('aria-activedescendant', all[index].id);
    };
    const choose = (option) => {
      const name = input.name.replace(/_q$/, '');
      // A choice replaces the no-JavaScript radio candidates with one hidden id.
      const candidates = box.querySelector('[data-pick-candidates]');
      if (candidates) candidates.remove();
      let id = box.querySelector('[data-pick-id]');
      if (!id) {
        id = document.createElement('input');
        id.type = 'hidden';
        id.name = name;
        id.setAttribute('data-pick-id', '');
        box.appendChild(id);
      }
      id.value = option.dataset.id;
      input.value = option.dataset.label;
      was.value = option.dataset.label;
      close();
      input.dispatchEvent(new Event('pick', { bubbles: true }));
    };
    const show = (items) => {
      close();
      if (!items.length) return;
      items.forEach((item, i) => {
        const li = document.createElement('li');
        li.id = `${listId}-${i}`;
        li.setAttribute('role', 'option');
        li.dataset.id = String(item.id);
        li.dataset.label = item.label;
        li.textContent = item.label;
        if (item.hint) {
          const hint = document.createElement('span');
          hint.className = 'muted';
          hint.textContent = ` ${item.hint}`;
          li.appendChild(hint);
        }
        // mousedown, not click: it comes before the input's blur closes the list.
        li.addEventListener('mousedown', (e) => {
          e.preventDefault();
          choose(li);
        });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
    };
    const search = async () => {
      const q = input.value.trim();
      const mine = ++asked;
      if (!q) return close();
      try {
        const res = await fetch(`${box.dataset.pick}?${new URLSearchParams({ q })}`, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
        if (!res.ok) return;
        const data = await res.json();
        // An older answer arriving after a newer one must not replace it.
        if (mine === asked) show(data.items || []);
      } catch {
        // Offline or refused: the form still resolves the typed name when submitted.
      }
    };
    input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener('keydown', (e) => {
      const all = options();
      if (list.hidden || !all.length) return;
      if (e.key === 'ArrowDown') {
        e.preventDefault();
        highlight((active + 1) % all.length);
      } else if (e.key === 'ArrowUp') {
        e.preventDefault();
        highlight((active - 1 + all.length) % all.length);
      } else if (e.key === 'Enter' && active >= 0) {
        e.preventDefault();
        choose(all[active]);
      } else if (e.key === 'Escape') {
        close();
      }
    });
    input.addEventListener('blur', () => setTimeout(close, 100));
  }
  document.querySelectorAll('[data-pick]').forEach(enhance);
  // Content swapped in after load (a generated form replaced in place: schema-form.js) says so.
  document.addEventListener('waymark:content', (e) => e.target.querySelectorAll('[data-pick]').forEach(enhance));
})();
