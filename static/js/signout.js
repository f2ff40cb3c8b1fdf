// Signing out forgets this browser's unsent drafts of lab code (static/js/editor.js keeps them in
// localStorage under "academy:draft:<user>:<lab>"): on a shared computer the next person must not see
// them. The sign-out response's Clear-Site-Data header does the same where the browser honours it
// (https or localhost). Loaded for signed-in users by templates/base.html; the form is marked data-signout.
(function () {
  "use strict";
  var PREFIX = "academy:draft:";
  var signingOut = false;

  function forgetDrafts() {
    try {
      for (var i = window.localStorage.length - 1; i >= 0; i--) {
        var key = window.localStorage.key(i);
        if (key && key.indexOf(PREFIX) === 0) window.localStorage.removeItem(key);
      }
    } catch (err) {
      // storage disabled (private browsing): nothing was kept
    }
  }

  document.querySelectorAll("form[data-signout]").forEach(function (form) {
    form.addEventListener("submit", function () {
      signingOut = true;
      document.dispatchEvent(new Event("academy:signout"));  // the editor stops saving its draft
      forgetDrafts();
    });
  });
  // A save already under way when the page goes is forgotten too.
  window.addEventListener("pagehide", function () { if (signingOut) forgetDrafts(); });
})();
