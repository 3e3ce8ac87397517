/* global document, fetch, DOMParser, window, setTimeout */
// A background job's page follows the job by itself: while the job waits or runs, the page asks
// the server again every two seconds and puts the fresh state and progress in place. Without
// JavaScript the "Check again" link does the same.
(function () {
  function follow() {
    const shown = document.querySelector('[data-job-running]');
    if (!shown) return;
    setTimeout(async function () {
      try {
        const response = await fetch(window.location.href, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
        if (!response.ok) return;
        const fresh = new DOMParser().parseFromString(await response.text(), 'text/html').querySelector('[data-job]');
        const old = document.querySelector('[data-job]');
        if (fresh && old) old.replaceWith(fresh);
        follow();
      } catch {
        // Offline or signed out: the "Check again" link still works.
      }
    }, 2000);
  }
  follow();
})();
