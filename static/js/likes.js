// Like buttons (the post's and the comments') without a page reload. Without
// JavaScript the form posts and the server redirects back; with it, fetch()
// asks for JSON and the widget ([data-likes-widget]: the button, its line,
// the likers' names, a status) is updated in place. No inline script.
(function () {
  "use strict";
  // Strings in the site's language from Django's JavaScript catalogue
  // (blog/locale.py, loaded before this file); English if it did not load.
  var gettext = window.gettext || function (text) { return text; };

  function picture(src, className) {
    var image = document.createElement("img");
    image.className = className;
    image.src = src;
    image.alt = "";
    image.width = 28;
    image.height = 28;
    return image;
  }

  // As blog/avatars.py draws a face: the identicon, and the Gravatar picture
  // over it when the site has Gravatar on.
  function faceOf(face, photo) {
    var drawn = picture(face, "avatar");
    if (!photo) {
      return drawn;
    }
    var stack = document.createElement("span");
    stack.className = "face";
    var over = picture(photo, "avatar avatar--photo");
    over.loading = "lazy";
    over.decoding = "async";
    over.referrerPolicy = "no-referrer";
    if (window.inkwellWatchFace) {
      window.inkwellWatchFace(over);  // static/js/faces.js
    }
    stack.append(drawn, over);
    return stack;
  }

  function render(widget, data) {
    var button = widget.querySelector("button[name='intent']");
    var line = widget.querySelector("[data-likes-line]");
    var names = widget.querySelector("[data-likes-names]");
    if (typeof data.liked === "boolean") {
      button.setAttribute("aria-pressed", data.liked ? "true" : "false");
      button.value = data.liked ? "unlike" : "like";
    }
    if (line && typeof data.line === "string") {
      line.textContent = data.line;
    }
    if (names && Array.isArray(data.names)) {
      names.replaceChildren.apply(
        names,
        data.names.map(function (name, index) {
          var item = document.createElement("li");
          var face = Array.isArray(data.faces) ? data.faces[index] : "";
          var photo = Array.isArray(data.photos) ? data.photos[index] : "";
          if (face) {
            item.appendChild(faceOf(face, photo));
          }
          item.appendChild(document.createTextNode(name));
          return item;
        })
      );
      names.hidden = data.names.length === 0;
    }
  }

  function bind(form) {
    if (form.dataset.likesReady) {
      return;
    }
    form.dataset.likesReady = "true";
    var widget = form.closest("[data-likes-widget]");
    var button = form.querySelector("button[name='intent']");
    var status = widget.querySelector("[data-likes-status]");

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (button.disabled) {
        return;
      }
      var body = new FormData(form);
      body.set("intent", button.value);
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "X-CSRFToken": body.get("csrfmiddlewaretoken") || "",
        },
      })
        .then(function (response) {
          return response
            .json()
            .catch(function () {
              return {};
            })
            .then(function (data) {
              render(widget, data);
              status.textContent =
                data.message ||
                (response.ok
                  ? ""
                  : gettext(
                      "Your like could not be saved. Please reload the page and try again."
                    ));
            });
        })
        .catch(function () {
          status.textContent = gettext(
            "The site could not be reached. Please try again."
          );
        })
        .finally(function () {
          button.disabled = false;
        });
    });
  }

  document.querySelectorAll("form[data-likes]").forEach(bind);
})();
