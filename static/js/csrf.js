// The reader's own security token for the forms of a shared page.
//
// A page from the page cache is the same bytes for every reader, so its
// forms (Leave a Reply, Like) carry an empty csrfmiddlewaretoken. When the
// reader first reaches for a form, this asks the site for their token
// (blog:csrf_token, which also sets the cookie) and fills every empty one.
// A form sent before the answer came waits for it, then goes as the reader
// sent it. Without this script the server sends the form back with its
// text and a token (comments.views.csrf_failure): one more click, nothing
// lost.
(function () {
  "use strict";

  var script = document.currentScript;
  var url = script && script.dataset.tokenUrl;
  var selector = 'input[name="csrfmiddlewaretoken"]';
  var asked = null;

  function emptyInputs(root) {
    return Array.prototype.filter.call(
      (root || document).querySelectorAll(selector),
      function (input) {
        return !input.value;
      }
    );
  }

  function token() {
    if (!asked) {
      asked = fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("token: " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          emptyInputs().forEach(function (input) {
            input.value = data.token;
          });
          return data.token;
        })
        .catch(function (error) {
          asked = null; // ask again on the next try
          throw error;
        });
    }
    return asked;
  }

  function formNeedsToken(form) {
    return Boolean(form && form.querySelector && emptyInputs(form).length);
  }

  if (!url || !emptyInputs().length) {
    return;
  }

  function early(event) {
    var target = event.target;
    var form = target && (target.form || (target.closest && target.closest("form")));
    if (formNeedsToken(form)) {
      token().catch(function () {});
    }
  }
  document.addEventListener("focusin", early, true);
  document.addEventListener("pointerdown", early, true);

  // Capturing on the document runs before the form's own submit handlers
  // (likes.js, comments.js), so they always see the token.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!formNeedsToken(form)) {
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      var submitter = event.submitter;
      var send = function () {
        if (submitter && form.requestSubmit) {
          form.requestSubmit(submitter);
        } else if (form.requestSubmit) {
          form.requestSubmit();
        } else {
          form.submit();
        }
      };
      token().then(send, function () {
        // No token to be had: send it anyway, the server answers with the
        // form, its text and a fresh token.
        emptyInputs(form).forEach(function (input) {
          input.value = "-";
        });
        send();
      });
    },
    true
  );
})();
