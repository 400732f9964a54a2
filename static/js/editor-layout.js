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

  // `text` in place of editor.value[start:end], on a line of its own, with
  // no blank lines added around it; the cursor after it.
  function insertOnOwnLine(editor, text, start, end) {
    var before = editor.value.slice(0, start);
    var after = editor.value.slice(end);
    var lead = before === "" || before.slice(-1) === "\n" ? "" : "\n";
    var trail = after === "" || after.charAt(0) === "\n" ? "" : "\n";
    editor.value = before + lead + text + trail + after;
    var caret = before.length + lead.length + text.length + trail.length;
    editor.setSelectionRange(caret, caret);
    editor.dispatchEvent(new Event("input"));
  }
  window.InkwellEditor = { insertOnOwnLine: insertOnOwnLine };

  // "Insert from the media library": a dialog listing the pictures (newest
  // first, or those matching a search) from blog/admin.py MediaFileAdmin.
  function mediaPicker(editor, url) {
    var dialog = document.createElement("dialog");
    dialog.className = "media-picker";
    dialog.setAttribute("aria-labelledby", "media-picker-title");
    var title = document.createElement("h2");
    title.id = "media-picker-title";
    title.textContent = t("Media library");
    var label = document.createElement("label");
    label.htmlFor = "media-picker-search";
    label.textContent = t("Search pictures");
    var search = document.createElement("input");
    search.type = "search";
    search.id = "media-picker-search";
    var list = document.createElement("ul");
    list.className = "media-picker__list";
    var status = document.createElement("p");
    status.className = "media-picker__status";
    status.setAttribute("role", "status");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "media-picker__close";
    close.textContent = t("Close");
    [title, label, search, status, list, close].forEach(function (part) {
      dialog.appendChild(part);
    });
    document.body.appendChild(dialog);
    var at = { start: 0, end: 0 };
    var timer = null;

    function load() {
      status.textContent = t("Loading…");
      fetch(url + "?q=" + encodeURIComponent(search.value), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(response.status);
          }
          return response.json();
        })
        .then(function (answer) {
          list.replaceChildren();
          answer.pictures.forEach(function (picture) {
            var item = document.createElement("li");
            var choose = document.createElement("button");
            choose.type = "button";
            var image = document.createElement("img");
            image.src = picture.url;
            image.alt = "";
            var name = document.createElement("span");
            name.textContent = picture.description || picture.name;
            choose.appendChild(image);
            choose.appendChild(name);
            choose.addEventListener("click", function () {
              insertOnOwnLine(editor, picture.markdown, at.start, at.end);
              dialog.close();
              editor.focus();
            });
            item.appendChild(choose);
            list.appendChild(item);
          });
          status.textContent = answer.pictures.length
            ? ""
            : t("No pictures yet: drop or paste one into the text.");
        })
        .catch(function () {
          status.textContent = t("The media library could not be opened. Try again.");
        });
    }

    search.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(load, 250);
    });
    close.addEventListener("click", function () {
      dialog.close();
    });
    dialog.addEventListener("close", function () {
      editor.focus();
    });
    return function open() {
      at = { start: editor.selectionStart, end: editor.selectionEnd };
      dialog.showModal();
      load();
    };
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
    if (editor.dataset.mediaPicker) {
      var open = mediaPicker(editor, editor.dataset.mediaPicker);
      var library = document.createElement("button");
      library.type = "button";
      library.className = "editor-library";
      library.textContent = t("Insert from the media library");
      library.addEventListener("click", open);
      bar.appendChild(library);
    }
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
