// The post and page editor's layout (static/css/editor.css): the text and its
// live preview side by side on wide screens; on a phone, Write and Preview
// buttons show one or the other; "Distraction-free" keeps only the title and
// the editor (Esc leaves it). The Tags box completes the tag being typed after
// a comma from the suggestions the page carries (blog/tags.py).
(function () {
  "use strict";

  function t(text) {
    return typeof window.gettext === "function" ? window.gettext(text) : text;
  }

  function button(label, pressed) {
    var made = document.createElement("button");
    made.type = "button";
    made.textContent = label;
    made.setAttribute("aria-pressed", pressed ? "true" : "false");
    return made;
  }

  function setUp(widget) {
    var editor = widget.querySelector("textarea");
    var preview = widget.querySelector(".markdownx-preview");
    if (!editor || !preview) {
      return;
    }
    preview.id = (editor.id || "editor") + "_preview";
    // A scrolling region the keyboard can reach, named for screen readers.
    preview.setAttribute("tabindex", "0");
    preview.setAttribute("role", "region");
    preview.setAttribute("aria-label", t("Preview"));

    var bar = document.createElement("div");
    bar.className = "editor-bar";
    var views = document.createElement("div");
    views.className = "editor-views";
    views.setAttribute("role", "group");
    views.setAttribute("aria-label", t("Show"));
    var write = button(t("Write"), true);
    var look = button(t("Preview"), false);
    write.setAttribute("aria-controls", editor.id);
    look.setAttribute("aria-controls", preview.id);
    views.appendChild(write);
    views.appendChild(look);
    var focus = button(t("Distraction-free"), false);
    focus.className = "editor-focus-toggle";
    bar.appendChild(views);
    bar.appendChild(focus);
    widget.insertBefore(bar, editor);

    function show(view) {
      widget.dataset.view = view;
      write.setAttribute("aria-pressed", view === "write" ? "true" : "false");
      look.setAttribute("aria-pressed", view === "preview" ? "true" : "false");
      if (view === "preview") {
        // The widget refreshes the preview on typing; be sure it is current.
        editor.dispatchEvent(new Event("input"));
      }
    }

    function setFocus(on) {
      document.body.classList.toggle("editor-focus", on);
      focus.setAttribute("aria-pressed", on ? "true" : "false");
      focus.textContent = on ? t("Leave distraction-free") : t("Distraction-free");
    }

    write.addEventListener("click", function () {
      show("write");
      editor.focus();
    });
    look.addEventListener("click", function () {
      show("preview");
    });
    focus.addEventListener("click", function () {
      setFocus(!document.body.classList.contains("editor-focus"));
      editor.focus();
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && document.body.classList.contains("editor-focus")) {
        setFocus(false);
        focus.focus();
      }
    });
    show("write");
    widget.classList.add("editor-ready");
  }

  // Tags: "morning routine, str" suggests "morning routine, stretching".
  function completeTags(input) {
    var list = input.list;
    if (!list) {
      return;
    }
    var names = Array.prototype.map.call(list.options, function (option) {
      return option.value;
    });
    input.addEventListener("input", function () {
      var value = input.value;
      var cut = value.lastIndexOf(",");
      var before = cut < 0 ? "" : value.slice(0, cut + 1).replace(/\s*$/, " ");
      var typed = value.slice(cut + 1).trim().toLowerCase();
      var taken = value
        .slice(0, cut < 0 ? 0 : cut)
        .split(",")
        .map(function (name) {
          return name.trim().toLowerCase();
        });
      var options = names
        .filter(function (name) {
          var lower = name.toLowerCase();
          return lower.indexOf(typed) === 0 && taken.indexOf(lower) < 0;
        })
        .slice(0, 20)
        .map(function (name) {
          var option = document.createElement("option");
          option.value = before + name;
          return option;
        });
      list.replaceChildren.apply(list, options);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".markdownx").forEach(setUp);
    document.querySelectorAll("input[list][name=tags]").forEach(completeTags);
  });
})();
