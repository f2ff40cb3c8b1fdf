// The top bar's menu button on a phone (templates/base.html). Loaded in <head>: it marks <html> at once
// (the stylesheet folds the menu only then) and listens on the document, so the button works from the
// moment it shows, before the rest of the page's scripts have loaded. Without this script the button
// stays hidden and the menu is simply shown.
(function () {
  "use strict";
  document.documentElement.classList.add("js-nav");

  function parts() {
    var button = document.querySelector(".nav-toggle");
    var nav = button && document.getElementById(button.getAttribute("aria-controls"));
    return nav ? { button: button, nav: nav } : null;
  }
  function setOpen(p, open) {
    p.button.setAttribute("aria-expanded", open ? "true" : "false");
    p.nav.classList.toggle("open", open);
  }

  document.addEventListener("click", function (event) {
    var p = parts();
    if (p && p.button.contains(event.target)) setOpen(p, p.button.getAttribute("aria-expanded") !== "true");
  });
  // Escape closes the menu and gives the focus back to its button, when the focus is in the menu, on
  // the button or nowhere (not, say, in the code editor, which has its own use for Escape).
  document.addEventListener("keydown", function (event) {
    var p = event.key === "Escape" ? parts() : null;
    if (!p || p.button.getAttribute("aria-expanded") !== "true") return;
    var focus = document.activeElement;
    if (!focus || focus === document.body || focus === p.button || p.nav.contains(focus)) {
      setOpen(p, false);
      p.button.focus();
    }
  });
})();
