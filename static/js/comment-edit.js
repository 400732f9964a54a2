// Edit and Delete for the reader's own comments, in place.
//
// The thread is the same bytes for every reader (the page cache), so it
// holds no Edit link. This asks the site (comments:mine, never cached)
// which comments of the page are the reader's and still changeable, then
// adds the links, and turns Edit into a form right there. Signed-in readers
// already have the links (their pages are their own); anonymous ones have
// a cookie listing their recent comments (inkwell_own_ids: ids only, the
// authority is in an HttpOnly cookie the server reads). Without this
// script the links in the "Thank you" message and the confirmation mail
// open a page of their own (/comments/<id>/edit/).
(function () {
  "use strict";

  var script = document.currentScript;
  var url = script && script.dataset.mineUrl;
  if (!url || !window.fetch) {
    return;
  }

  function hinted() {
    var match = document.cookie.match(/(?:^|;\s*)inkwell_own_ids=([0-9.]+)/);
    return match ? match[1].split(".") : [];
  }

  var ids = hinted().filter(function (id) {
    return document.getElementById("c" + id);
  });
  Array.prototype.forEach.call(
    document.querySelectorAll(".comment__own[data-own]"),
    function (own) {
      if (ids.indexOf(own.dataset.own) < 0) {
        ids.push(own.dataset.own);
      }
    }
  );
  if (!ids.length) {
    return;
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function link(className, href, label, yours) {
    var anchor = element("a", { class: className, href: href }, label);
    anchor.appendChild(element("span", { class: "visually-hidden" }, yours));
    return anchor;
  }

  function ownLinks(comment, labels) {
    var own = element("p", { class: "comment__own", "data-own": comment.id });
    if (comment.can_edit) {
      own.appendChild(link("comment__edit", comment.edit_url, labels.edit, labels.yours));
      own.appendChild(document.createTextNode(" "));
    }
    own.appendChild(
      link("comment__delete", comment.delete_url, labels.delete, labels.yours)
    );
    return own;
  }

  function editor(comment, labels, token, content, own) {
    var id = "comment-edit-" + comment.id;
    var form = element("form", {
      class: "comment-edit comment-edit--inline",
      method: "post",
      action: comment.edit_url,
    });
    form.appendChild(
      element("input", { type: "hidden", name: "csrfmiddlewaretoken", value: token })
    );
    var field = element("p", { class: "comment-form__field" });
    field.appendChild(element("label", { for: id }, labels.label));
    var text = element("textarea", {
      id: id,
      name: "comment",
      rows: "6",
      cols: "60",
      "aria-describedby": id + "-until",
    });
    text.value = comment.text;
    field.appendChild(text);
    field.appendChild(
      element(
        "span",
        { class: "helptext", id: id + "-until" },
        labels.until.replace("%(time)s", comment.until)
      )
    );
    form.appendChild(field);
    var buttons = element("p", { class: "comment-form__submit" });
    buttons.appendChild(element("button", { type: "submit" }, labels.save));
    buttons.appendChild(document.createTextNode(" "));
    var cancel = element("button", { type: "button", class: "button--quiet" }, labels.cancel);
    buttons.appendChild(cancel);
    form.appendChild(buttons);
    cancel.addEventListener("click", function () {
      form.remove();
      content.hidden = false;
      own.hidden = false;
      own.querySelector(".comment__edit").focus();
    });
    return form;
  }

  fetch(url + "?ids=" + ids.join("."), {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  })
    .then(function (response) {
      return response.ok ? response.json() : { comments: [] };
    })
    .then(function (data) {
      data.comments.forEach(function (comment) {
        var item = document.getElementById("c" + comment.id);
        var body = item && item.querySelector(".comment__body");
        var content = body && body.querySelector(".comment__content");
        if (!content) {
          return;
        }
        var own = body.querySelector(".comment__own");
        var fresh = ownLinks(comment, data.labels);
        if (own) {
          own.replaceWith(fresh);
        } else {
          content.parentNode.insertBefore(fresh, content.nextSibling);
        }
        own = fresh;
        var edit = own.querySelector(".comment__edit");
        if (!edit) {
          return;
        }
        edit.addEventListener("click", function (event) {
          event.preventDefault();
          var form = editor(comment, data.labels, data.token, content, own);
          content.hidden = true;
          own.hidden = true;
          content.parentNode.insertBefore(form, content);
          form.querySelector("textarea").focus();
        });
      });
    })
    .catch(function () {
      // The links stay as the page had them (signed-in readers), or absent.
    });
})();
