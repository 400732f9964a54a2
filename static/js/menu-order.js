// The menu editor's "Move up" / "Move down" buttons (blog/admin.py,
// MenuItemInline): each moves its link one place and numbers the links'
// order fields 10, 20, 30… as they now stand, so nobody types numbers.
// Without JavaScript the order fields still work as typed.
(() => {
  const GROUP = "#items-group";
  // Strings in the site's language from Django's JavaScript catalogue
  // (templates/admin/base_site.html loads it, deferred: it has run by the
  // time these are called); English without it.
  const gettext = (text) => (window.gettext ? window.gettext(text) : text);
  const interpolate = (format, values) =>
    format.replace(/%\((\w+)\)s/g, (_, key) => values[key]);

  function links(group) {
    return Array.from(
      group.querySelectorAll(".inline-related:not(.empty-form)")
    ).filter((link) => link.id && link.querySelector('input[name$="-order"]'));
  }

  // A new link nobody has filled in stays untouched: giving it a number would
  // make the admin check it as if it had been filled in.
  function inUse(link) {
    const id = link.querySelector('input[name$="-id"]');
    if (id && id.value) return true;
    return Array.from(
      link.querySelectorAll(
        'input[name$="-label"], input[name$="-url"], select[name$="-page"], ' +
          'select[name$="-post"], select[name$="-category"], select[name$="-tag"]'
      )
    ).some((field) => field.value);
  }

  function renumber(group) {
    let number = 0;
    for (const link of links(group)) {
      if (!inUse(link)) continue;
      number += 10;
      link.querySelector('input[name$="-order"]').value = number;
    }
  }

  // What readers will see: the label, else the chosen page's, post's,
  // category's or tag's name, else the address.
  function title(link) {
    const label = link.querySelector('input[name$="-label"]');
    if (label && label.value) return label.value;
    for (const name of ["page", "post", "category", "tag"]) {
      const select = link.querySelector(`select[name$="-${name}"]`);
      const chosen = select && select.selectedOptions[0];
      if (chosen && chosen.value) return chosen.textContent.trim();
    }
    const url = link.querySelector('input[name$="-url"]');
    return (url && url.value) || "this link";
  }

  function announce(group, text) {
    let status = group.querySelector(".menu-order-status");
    if (!status) {
      status = document.createElement("p");
      status.className = "menu-order-status";
      status.setAttribute("role", "status");
      group.prepend(status);
    }
    status.textContent = text;
  }

  function addButtons(link) {
    const heading = link.querySelector("h3");
    if (!heading || heading.querySelector(".menu-order")) return;
    const box = document.createElement("span");
    box.className = "menu-order";
    for (const [direction, text] of [
      ["up", gettext("Move up")],
      ["down", gettext("Move down")],
    ]) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button menu-order__move";
      button.dataset.move = direction;
      button.textContent = text;
      box.append(button);
    }
    heading.append(box);
  }

  function move(button) {
    const group = button.closest(GROUP);
    const link = button.closest(".inline-related");
    const all = links(group);
    const at = all.indexOf(link);
    const to = button.dataset.move === "up" ? at - 1 : at + 1;
    if (at < 0 || to < 0 || to >= all.length) {
      const where =
        to < 0 ? gettext("“%(title)s” is already first.") : gettext("“%(title)s” is already last.");
      announce(group, interpolate(where, { title: title(link) }));
      return;
    }
    const other = all[to];
    if (to < at) other.before(link);
    else other.after(link);
    renumber(group);
    button.focus();
    announce(
      group,
      interpolate(
        gettext("“%(title)s” is now number %(number)s of %(total)s."),
        { title: title(link), number: to + 1, total: all.length }
      )
    );
  }

  document.addEventListener("DOMContentLoaded", () => {
    const group = document.querySelector(GROUP);
    if (!group) return;
    links(group).forEach(addButtons);
    group.addEventListener("click", (event) => {
      const button = event.target.closest("[data-move]");
      if (button) move(button);
    });
  });
  // Django's inlines.js sends this when "Add another link" adds a form.
  document.addEventListener("formset:added", (event) => {
    if (event.target.closest && event.target.closest(GROUP)) addButtons(event.target);
  });
})();
