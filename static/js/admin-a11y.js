// Names the admin's autocomplete boxes after their field labels. select2
// labels its combobox only by the chosen value, which is empty until something
// is chosen, so screen readers (and axe) find an unnamed field.
window.addEventListener("load", () => {
  document.querySelectorAll("select.admin-autocomplete").forEach((select) => {
    const label = document.querySelector(`label[for="${select.id}"]`);
    const container = select.nextElementSibling;
    const box = container && container.querySelector('[role="combobox"]');
    if (!label || !box) return;
    label.id = label.id || `${select.id}_label`;
    const shown = box.getAttribute("aria-labelledby") || "";
    if (!shown.split(" ").includes(label.id)) {
      box.setAttribute("aria-labelledby", `${label.id} ${shown}`.trim());
    }
    // The chosen value's own text field (role="textbox") needs a name too.
    const rendered = container.querySelector('[role="textbox"]');
    if (rendered) rendered.setAttribute("aria-labelledby", label.id);
  });
});
