// The unread badge in the top bar, kept current on a page left open: the count is asked for every
// data-poll-seconds while the page is visible, and at once when it becomes visible again. The badge
// is built as templates/base.html renders it, inside an aria-live region that reads changes out.
(function () {
  "use strict";
  var live = document.querySelector(".unread-live[data-unread-url]");
  if (!live || !window.fetch) return;
  var url = live.dataset.unreadUrl;
  var every = Math.max(1, Number(live.dataset.pollSeconds) || 30) * 1000;
  var timer = null;
  var shown = -1; // what the badge says now (-1: not known yet)

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
    clearTimeout(timer);
    timer = null;
    if (document.visibilityState !== "visible") return; // a hidden tab asks nothing
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) return "signed out";
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (body === "signed out") return; // signed out in another tab: stop asking
        if (body && typeof body.unread === "number") show(body.unread);
        schedule();
      }, schedule); // offline for a moment: try again later
  }

  function schedule() {
    if (timer === null && document.visibilityState === "visible") timer = setTimeout(refresh, every);
  }

  var badgeNow = live.querySelector("[data-testid=unread-count]");
  shown = badgeNow ? parseInt(badgeNow.textContent, 10) : 0;
  document.addEventListener("visibilitychange", refresh);
  schedule();
})();
