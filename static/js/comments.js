// Reply in place: "Reply" moves the "Leave a Reply" box under that comment,
// "Cancel reply" puts it back. Without JavaScript the Reply links open a page
// of their own (/comments/reply/<id>/), so nothing here is required.
(function () {
  "use strict";
  // Strings in the site's language from Django's JavaScript catalogue
  // (blog/locale.py, loaded before this file); English if it did not load.
  var gettext = window.gettext || function (text) { return text; };
  var interpolate =
    window.interpolate ||
    function (format, values, named) {
      return format.replace(/%\(\w+\)s/g, function (match) {
        return values[match.slice(2, -2)];
      });
    };
  var respond = document.getElementById("respond");
  var form = document.getElementById("comment-form");
  if (!respond || !form) {
    return;
  }
  var replyTo = form.querySelector("input[name='reply_to']");
  var cancel = form.querySelector(".comment-form__cancel");
  var text = form.querySelector("textarea");
  var title = document.getElementById("reply-title");
  var originalTitle = title.textContent;
  var home = document.createElement("div");
  home.id = "respond-home";
  respond.parentNode.insertBefore(home, respond);

  // The Reply link names neither the comment nor its author: the comment is
  // the item the link is in (id "c<id>"), the name is its author's.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.comment__reply");
    var item = link && link.closest("li.comment");
    if (!item) {
      return;
    }
    event.preventDefault();
    var body = item.querySelector(".comment__body");
    body.parentNode.insertBefore(respond, body.nextSibling);
    replyTo.value = item.id.slice(1);
    title.textContent = interpolate(
      gettext("Leave a Reply to %(name)s"),
      { name: body.querySelector(".comment__author").textContent },
      true
    );
    cancel.hidden = false;
    text.focus();
  });

  cancel.addEventListener("click", function (event) {
    event.preventDefault();
    replyTo.value = "0";
    title.textContent = originalTitle;
    cancel.hidden = true;
    home.parentNode.insertBefore(respond, home);
    text.focus();
  });
})();
