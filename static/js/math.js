// Typeset the math elements that core/markdown.py writes (<span class="math inline">, <div class="math block">)
// with the vendored KaTeX. Without JavaScript the TeX source stays readable.
(function () {
  "use strict";
  function typeset(root) {
    if (!window.katex) return;
    root.querySelectorAll(".math.inline, .math.block").forEach(function (el) {
      if (el.dataset.typeset) return;
      var tex = el.textContent;
      try {
        window.katex.render(tex, el, { displayMode: el.classList.contains("block"), throwOnError: false });
        el.dataset.typeset = "1";
        el.setAttribute("title", tex.trim());
      } catch (err) {
        el.classList.add("math-error");
      }
    });
  }
  window.typesetMath = typeset; // for HTML put in later (static/js/exercises.js)
  document.addEventListener("DOMContentLoaded", function () { typeset(document); });
})();
