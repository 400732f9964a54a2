// The reader's colour scheme: the system's (prefers-color-scheme, in
// site.css) until they press the header's toggle; their choice is kept in
// localStorage, never sent to the server. Loaded in <head> without defer, so
// <html data-theme> is set before the first paint: no flash of the other
// scheme. No inline script (CSP).
(function () {
  "use strict";
  var KEY = "inkwell-theme";
  var root = document.documentElement;
  var system = window.matchMedia
    ? window.matchMedia("(prefers-color-scheme: dark)")
    : { matches: false, addEventListener: function () {} };
  var saved = null;
  try {
    saved = window.localStorage.getItem(KEY);
  } catch (error) {
    // Storage refused (private mode, blocked cookies): the system decides.
  }
  if (saved === "light" || saved === "dark") {
    root.setAttribute("data-theme", saved);
  }
  // The header's toggle takes its place from the first paint (site.css).
  root.setAttribute("data-theme-ready", "");

  function current() {
    var chosen = root.getAttribute("data-theme");
    if (chosen === "light" || chosen === "dark") {
      return chosen;
    }
    return system.matches ? "dark" : "light";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("button[data-theme-toggle]");
    if (!button) {
      return;
    }
    function sync() {
      button.setAttribute("aria-pressed", current() === "dark" ? "true" : "false");
    }
    sync();
    button.addEventListener("click", function () {
      var next = current() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try {
        window.localStorage.setItem(KEY, next);
      } catch (error) {
        // Not kept: it still applies to this page.
      }
      sync();
    });
    system.addEventListener("change", sync);
  });
})();
