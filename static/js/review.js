// Review page: clicking a line number starts a "N: " comment in the line-comments box.
(function () {
  "use strict";
  var box = document.getElementById("id_line_comments");
  if (!box) return;
  function start(line) {
    var prefix = box.value && !box.value.endsWith("\n") ? "\n" : "";
    box.value += prefix + line + ": ";
    box.focus();
  }
  document.querySelectorAll(".code-lines .ln[data-line]").forEach(function (el) {
    el.addEventListener("click", function () { start(el.dataset.line); });
    el.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); start(el.dataset.line); } });
  });
})();
