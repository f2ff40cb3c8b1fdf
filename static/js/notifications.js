// The unread badge in the top bar, kept current on a page left open: the count is asked for when the
// viewer's stream (static/js/live.js) says it changed, every data-poll-seconds while the stream is not
// open, and at once when the page becomes visible again; a hidden tab asks nothing. The badge is built
// as templates/base.html renders it, inside an aria-live region that reads changes out.
(function () {
  "use strict";
  var live = document.querySelector(".unread-live[data-unread-url]");
  if (!live || !window.fetch) return;
  var url = live.dataset.unreadUrl;
  var every = Math.max(1, Number(live.dataset.pollSeconds) || 30) * 1000;
  var shown = -1; // what the badge says now (-1: not known yet)
  var signedOut = false;

  function badge(count) {
    var outer = document.createElement("span");
    outer.className = "badge count";
    outer.dataset.testid = "unread-count";
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = " " + live.dataset.unreadLabel;
    outer.append(String(count), hidden);
    return outer;
  }

  function show(count) {
    if (count === shown) return; // an unchanged region is not read out again
    shown = count;
    if (count > 0) live.replaceChildren(" ", badge(count));
    else live.replaceChildren();
    var toggle = document.querySelector(".nav-toggle"); // a phone's folded menu shows a dot too
    if (toggle) toggle.classList.toggle("has-unread", count > 0);
  }

  function refresh() {
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) return "signed out";
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (body === "signed out") { // signed out in another tab: stop asking
          signedOut = true;
          return false;
        }
        if (body && typeof body.unread === "number") show(body.unread);
        return true;
      });
  }

  function hidden() { return signedOut || document.visibilityState !== "visible"; }

  var badgeNow = live.querySelector("[data-testid=unread-count]");
  shown = badgeNow ? parseInt(badgeNow.textContent, 10) : 0;
  var academyLive = window.academyLive;
  var follower = academyLive.follow(academyLive.userTopic, {
    refresh: refresh,
    every: every,
    paused: hidden,
    accepts: function (message) { return message.what === "unread"; }
  });
  document.addEventListener("visibilitychange", follower.now);
})();
