// Wide tables on a narrow screen. A scroll box with data-scroll-hint="<id>" shows the element of that
// id ("Scroll sideways for more columns") only while its content is wider than the box. Every other
// .table-wrap gets the same: while it overflows, a hint above it (the words come from this script's
// data-hint) and a focus stop, so the keyboard can scroll it too (named after its table or heading).
// Without this script the hints stay hidden and the boxes still scroll.
(function () {
  "use strict";
  var words = document.currentScript && document.currentScript.dataset.hint;

  function watch(box, update) {
    update();
    if (!window.ResizeObserver) { window.addEventListener("resize", update); return; }
    var observer = new ResizeObserver(update);
    observer.observe(box);
    if (box.firstElementChild) observer.observe(box.firstElementChild);
  }

  function nameOf(box) {
    var table = box.querySelector("table");
    if (table && table.getAttribute("aria-label")) return table.getAttribute("aria-label");
    var caption = table && table.querySelector("caption");
    if (caption) return caption.textContent.trim();
    var section = box.closest("section, main");
    var heading = section && section.querySelector("h1, h2, h3");
    return heading ? heading.textContent.trim() : "";
  }

  function start() {
    document.querySelectorAll("[data-scroll-hint]").forEach(function (box) {
      var hint = document.getElementById(box.dataset.scrollHint);
      if (hint) watch(box, function () { hint.hidden = box.scrollWidth <= box.clientWidth; });
    });
    if (!words) return;
    document.querySelectorAll(".table-wrap:not([data-scroll-hint])").forEach(function (box) {
      var hint = document.createElement("p");
      hint.className = "scroll-hint";
      hint.hidden = true;
      hint.textContent = words + " →";
      box.parentNode.insertBefore(hint, box);
      var focusable = box.hasAttribute("tabindex");
      watch(box, function () {
        var wide = box.scrollWidth > box.clientWidth + 1;
        hint.hidden = !wide;
        if (focusable) return; // the page made it a focus stop itself
        if (wide) {
          box.setAttribute("tabindex", "0");
          box.setAttribute("role", "region");
          if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", nameOf(box));
        } else {
          box.removeAttribute("tabindex");
        }
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
