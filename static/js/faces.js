// With Gravatar on (blog/avatars.py), a face is the drawn identicon with the
// person's Gravatar picture over it. A picture that cannot load (Gravatar
// unreachable, or blocked by the reader) would leave the browser's
// broken-image mark over the identicon: it is taken away instead. Without
// script the identicon still shows under that mark. Loaded only while
// Gravatar is on. No inline script (CSP).
(function () {
  "use strict";

  function watch(picture) {
    if (picture.complete) {
      if (!picture.naturalWidth) {
        picture.remove();
      }
      return;
    }
    picture.addEventListener("error", function () {
      picture.remove();
    }, { once: true });
  }

  // Faces added later (the likers', by likes.js) are watched where they are made.
  window.inkwellWatchFace = watch;
  document.querySelectorAll("img.avatar--photo").forEach(watch);
})();
