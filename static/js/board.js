// A challenge phase's leaderboard, live while the phase is open (templates/challenges/_live_board.html):
// when the board's stream says it changed (static/js/live.js), every data-poll-seconds while the stream
// is not open, and at once when the page becomes visible again, the board's fragment is asked for and
// put in place of the table; a hidden tab asks nothing. When its words changed, the polite status line
// says so once (a screen reader is not read the whole table again). The fragment says when the phase
// has closed (data-open="false"): then the polling stops (a reveal's hint is still followed). Without
// this script the board is the one the page was served with.
(function () {
  "use strict";
  var box = document.querySelector("[data-board-url]");
  if (!box || !window.fetch || !window.DOMParser) return;
  var status = document.getElementById("board-status");
  var every = Math.max(2, Number(box.dataset.pollSeconds) || 10) * 1000;
  var closed = false;
  var gone = false; // the board is no longer there for this viewer

  function words(node) { return (node.textContent || "").replace(/\s+/g, " ").trim(); }

  function show(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var table = doc.querySelector("table");
    if (!table) return;
    if (table.dataset.open === "false") closed = true;
    var current = box.querySelector("table");
    if (current && words(current) === words(table)) return; // nothing new: nothing replaced or read out
    box.replaceChildren(document.importNode(table, true));
    if (status) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = box.dataset.updated; }, 50);
    }
  }

  function refresh() {
    return fetch(box.dataset.boardUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.status === 404 || response.status === 403) { gone = true; return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html) show(html);
        return !closed && !gone;
      });
  }

  function paused() { return gone || document.visibilityState !== "visible"; }

  var follower = window.academyLive.follow(box.dataset.liveTopic || "", {
    refresh: refresh, every: every, paused: paused, catchUp: true
  });
  document.addEventListener("visibilitychange", function () { if (!closed) follower.now(); });
})();
