// Names the admin's autocomplete boxes after their field labels. select2
// labels its combobox only by the chosen value, which is empty until something
// is chosen, so screen readers (and axe) find an unnamed field.
//
// select2 starts from a jQuery ready handler, which may run before or after
// the page's load event: each box is named as soon as select2 has put it in
// the page (a mutation observer's callback runs once select2's set-up is done).
(() => {
  function name(select) {
    const label = document.querySelector(`label[for="${select.id}"]`);
    const container = select.nextElementSibling;
    const box = container && container.querySelector('[role="combobox"]');
    if (!label || !box) return false;
    label.id = label.id || `${select.id}_label`;
    const shown = box.getAttribute("aria-labelledby") || "";
    if (!shown.split(" ").includes(label.id)) {
      box.setAttribute("aria-labelledby", `${label.id} ${shown}`.trim());
    }
    // The chosen value's own text field (role="textbox") needs a name too.
    const rendered = container.querySelector('[role="textbox"]');
    if (rendered) rendered.setAttribute("aria-labelledby", label.id);
    return true;
  }

  function nameWhenReady(select) {
    if (name(select)) return;
    const observer = new MutationObserver(() => {
      if (name(select)) observer.disconnect();
    });
    observer.observe(select.parentNode, { childList: true });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("select.admin-autocomplete").forEach(nameWhenReady);
  });
})();
