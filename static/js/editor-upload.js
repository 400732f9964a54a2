// Says why a picture dropped or pasted into the post editor was refused.
// django-markdownx fires "markdownx.fileUploadError" with our JSON answer
// ({"error": "…"}, blog/editor.py) and then types "Invalid response" into the
// text; this shows the message above the editor and takes that text back out.
(function () {
  "use strict";

  var WIDGET_TEXT = "Invalid response";
  var FALLBACK = "The picture could not be uploaded. Try again.";

  // The widget puts the picture right at the cursor ("each side![…](…)"):
  // give it a line of its own (static/js/editor-layout.js).
  function ownLine(editor, code) {
    var end = editor.selectionStart;
    var start = end - code.length;
    if (start < 0 || editor.value.slice(start, end) !== code || !window.InkwellEditor) {
      return;
    }
    window.InkwellEditor.insertOnOwnLine(editor, code, start, end);
  }

  function setUp(widget) {
    var editor = widget.querySelector("textarea");
    if (!editor) {
      return;
    }
    var note = document.createElement("p");
    note.className = "errornote";
    note.setAttribute("role", "alert");
    note.style.display = "none"; // the admin's .errornote style overrides [hidden]
    widget.insertBefore(note, widget.firstChild);

    function refused(event) {
      var answer = event.detail && event.detail[0];
      var before = editor.value;
      var start = editor.selectionStart;
      var end = editor.selectionEnd;
      note.textContent = (answer && answer.error) || FALLBACK;
      note.style.display = "";
      // The widget inserts its text right after this event.
      window.setTimeout(function () {
        var widgetText = before.slice(0, start) + WIDGET_TEXT + before.slice(end);
        if (editor.value === widgetText) {
          editor.value = before;
          editor.setSelectionRange(start, end);
          editor.dispatchEvent(new Event("input"));
        }
      }, 0);
    }

    widget.addEventListener("markdownx.fileUploadError", refused);
    widget.addEventListener("fileUploadError", refused);
    widget.addEventListener("markdownx.fileUploadEnd", function (event) {
      note.style.display = "none";
      note.textContent = "";
      var answer = event.detail && event.detail[0];
      if (answer && answer.image_code) {
        ownLine(editor, answer.image_code);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".markdownx").forEach(setUp);
  });
})();
