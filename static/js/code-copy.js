// A "Copy" button on each code block of a post (static/css/site.css places
// it). Without JavaScript the code is there to select as usual. No inline
// script (CSP).
(function () {
  "use strict";
  // Strings in the site's language from Django's JavaScript catalogue
  // (blog/locale.py, loaded before this file); English if it did not load.
  var gettext = window.gettext || function (text) { return text; };

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http: the older way, through a hidden text area.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var done = false;
      try {
        done = document.execCommand("copy");
      } catch (error) {
        done = false;
      }
      area.remove();
      if (done) {
        resolve();
      } else {
        reject(new Error("copy refused"));
      }
    });
  }

  document.querySelectorAll(".post__body pre").forEach(function (pre, index) {
    var holder = pre.parentElement.classList.contains("highlight") ? pre.parentElement : pre;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "code-copy";
    button.textContent = gettext("Copy");
    button.setAttribute(
      "aria-label",
      gettext("Copy code block %s").replace("%s", String(index + 1))
    );
    button.addEventListener("click", function () {
      copy(pre.innerText.replace(/\n$/, "")).then(
        function () {
          button.textContent = gettext("Copied");
        },
        function () {
          button.textContent = gettext("Press Ctrl+C");
        }
      );
      window.setTimeout(function () {
        button.textContent = gettext("Copy");
      }, 2000);
    });
    if (holder === pre) {
      var wrap = document.createElement("div");
      wrap.className = "highlight";
      pre.parentNode.insertBefore(wrap, pre);
      wrap.appendChild(pre);
      holder = wrap;
    }
    holder.appendChild(button);
  });
})();
