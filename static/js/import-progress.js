// A WordPress import's page (templates/admin/blog/importjob/job.html) follows
// the import: the progress bar and its text are updated every second from the
// import's status, and the page reloads when the import moves to another
// state (checked, done, failed). Without JavaScript, "Refresh this page" does.
(function () {
  "use strict";
  const box = document.querySelector("[data-import-status]");
  if (!box) return;
  const bar = document.getElementById("import-progress");
  const text = document.getElementById("import-progress-text");
  const url = box.dataset.importStatus;

  function show(status) {
    if (status.state !== box.dataset.state) {
      window.location.reload();
      return false;
    }
    if (status.total > 0) {
      bar.max = status.total;
      bar.value = status.done;
    } else {
      bar.removeAttribute("value"); // indeterminate while the file is read
    }
    if (text.textContent !== status.text) text.textContent = status.text;
    return true;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((status) => {
        if (!status || show(status)) window.setTimeout(poll, 1000);
      })
      .catch(() => window.setTimeout(poll, 5000));
  }

  window.setTimeout(poll, 1000);
})();
