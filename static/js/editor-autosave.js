// Autosave for the post and page editor: what the author types is copied into
// this browser's localStorage (nothing leaves the page), offered back after a
// crash or a closed tab (restore or discard), and leaving the page with
// unsaved changes asks first.
//
// Loaded on every admin page (templates/admin/base_site.html): the copy is
// cleared by the page that follows a successful save (the admin's success
// message), not when the form is sent, so a save that fails (an error in the
// form, the server unreachable) loses nothing.
(function () {
  "use strict";

  var PREFIX = "inkwell-autosave:";
  var PENDING = "inkwell-autosave-sent";
  var FIELDS = ["id_title", "id_slug", "id_body", "id_excerpt"];
  var DELAY = 800; // ms after the last keystroke
  var SENT_FOR = 10 * 60 * 1000; // how long a sent form waits for its answer

  var user = (document.currentScript && document.currentScript.dataset.user) || "";

  function store(name) {
    try {
      var found = window[name];
      found.getItem(PREFIX);
      return found;
    } catch (error) {
      return null; // storage switched off: no autosave, nothing breaks
    }
  }

  var local = store("localStorage");
  var session = store("sessionStorage");

  function read(storage, key) {
    try {
      return JSON.parse(storage.getItem(key));
    } catch (error) {
      return null;
    }
  }

  function write(storage, key, value) {
    try {
      storage.setItem(key, JSON.stringify(value));
    } catch (error) {
      // Full: the next keystroke tries again.
    }
  }

  // Whether the admin sent the form back with errors (static/js/editor-upload.js
  // keeps a hidden .errornote of its own in the editor: not one of those).
  function formErrors() {
    return Array.prototype.some.call(document.querySelectorAll(".errornote"), function (note) {
      return !note.closest(".markdownx");
    });
  }

  // The page after a sent editor form: a success message means it was saved.
  function clearAfterSave() {
    var sent = read(session, PENDING);
    if (!sent) {
      return;
    }
    session.removeItem(PENDING);
    var saved = document.querySelector(".messagelist .success") && !formErrors();
    if (saved && Date.now() - sent.at < SENT_FOR) {
      local.removeItem(sent.key);
    }
  }

  function valuesOf(fields) {
    var values = {};
    fields.forEach(function (field) {
      values[field.id] = field.value;
    });
    return values;
  }

  function same(a, b) {
    return Object.keys(a).every(function (id) {
      return (a[id] || "").replace(/\r\n/g, "\n") === (b[id] || "").replace(/\r\n/g, "\n");
    });
  }

  function button(text) {
    var made = document.createElement("button");
    made.type = "button";
    made.className = "button";
    made.textContent = text;
    return made;
  }

  function offer(form, fields, draft, savedSince, restore, discard) {
    var box = document.createElement("div");
    box.className = "autosave-offer";
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", "Unsaved changes kept in this browser");
    var note = document.createElement("p");
    var when = new Date(draft.savedAt);
    note.textContent =
      "This browser kept changes you had not saved (last typed " +
      when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) +
      ")." +
      (savedSince
        ? " The text has been saved since then: restoring puts your copy in the form instead."
        : "") +
      " Restore them into the form, or discard them?";
    var restoreButton = button("Restore unsaved changes");
    var discardButton = button("Discard them");
    var status = document.createElement("p");
    status.setAttribute("role", "status");
    box.append(note, restoreButton, discardButton);
    form.parentNode.insertBefore(status, form);
    form.parentNode.insertBefore(box, form);

    function done(message, action) {
      action();
      box.remove();
      status.textContent = message;
      fields[0].focus();
    }
    restoreButton.addEventListener("click", function () {
      done("Your unsaved changes are back in the form. Save to keep them.", restore);
    });
    discardButton.addEventListener("click", function () {
      done("The unsaved changes were discarded.", discard);
    });
  }

  function setUp(form) {
    var fields = FIELDS.map(function (id) {
      return form.querySelector("#" + id);
    }).filter(Boolean);
    var key = PREFIX + user + ":" + window.location.pathname;
    // A form sent back with errors holds text that is not saved yet.
    var unsavedOnArrival = formErrors();
    var saved = unsavedOnArrival ? null : valuesOf(fields);
    var sending = false;
    var timer = null;

    function changed() {
      return saved === null || !same(valuesOf(fields), saved);
    }

    function keep() {
      window.clearTimeout(timer);
      timer = null;
      if (!changed()) {
        local.removeItem(key);
        return;
      }
      write(local, key, {
        savedAt: new Date().toISOString(),
        fields: valuesOf(fields),
        base: saved,
      });
    }

    var draft = read(local, key);
    if (draft && draft.fields && !same(draft.fields, valuesOf(fields))) {
      var savedSince = Boolean(saved && draft.base && !same(draft.base, saved));
      offer(
        form,
        fields,
        draft,
        savedSince,
        function () {
          fields.forEach(function (field) {
            if (field.id in draft.fields) {
              field.value = draft.fields[field.id];
              // The preview follows "input"; the slug box, "change".
              field.dispatchEvent(new Event("input", { bubbles: true }));
              field.dispatchEvent(new Event("change", { bubbles: true }));
            }
          });
          keep();
        },
        function () {
          local.removeItem(key);
        }
      );
    } else if (draft && !unsavedOnArrival) {
      local.removeItem(key); // the same text as the form: nothing to offer
    }
    if (unsavedOnArrival) {
      keep();
    }

    fields.forEach(function (field) {
      field.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(keep, DELAY);
      });
    });
    form.addEventListener("submit", function (event) {
      // Preview opens the form in another tab: this page stays, unsaved.
      if (event.submitter && event.submitter.formTarget === "_blank") {
        keep();
        return;
      }
      sending = true;
      keep();
      write(session, PENDING, { key: key, at: Date.now() });
    });
    window.addEventListener("beforeunload", function (event) {
      if (timer !== null) {
        keep();
      }
      if (!sending && changed()) {
        event.preventDefault();
        event.returnValue = ""; // older browsers ask only when this is set
      }
    });
    // A tab closed or a browser killed may skip beforeunload.
    window.addEventListener("pagehide", function () {
      if (timer !== null) {
        keep();
      }
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && timer !== null) {
        keep();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!local || !session) {
      return;
    }
    clearAfterSave();
    var editor = document.querySelector("#content-main form .markdownx textarea");
    if (editor) {
      setUp(editor.form);
    }
  });
})();
