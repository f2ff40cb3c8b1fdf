// A challenge phase's leaderboard, live while the phase is open (templates/challenges/_live_board.html):
// every data-poll-seconds, while the page is visible (and at once when it becomes visible again), the
// board's fragment is asked for and put in place of the table. When its words changed, the polite
// status line says so once (a screen reader is not read the whole table again). The fragment says when
// the phase has closed (data-open="false"): then the asking stops. Without this script the board is
// the one the page was served with.
(function () {
  "use strict";
  var box = document.querySelector("[data-board-url]");
  if (!box || !window.fetch || !window.DOMParser) return;
  var status = document.getElementById("board-status");
  var every = Math.max(2, Number(box.dataset.pollSeconds) || 10) * 1000;
  var timer = null;
  var stopped = false;

  function words(node) { return (node.textContent || "").replace(/\s+/g, " ").trim(); }

  function show(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var table = doc.querySelector("table");
    if (!table) return;
    if (table.dataset.open === "false") stopped = true;
    var current = box.querySelector("table");
    if (current && words(current) === words(table)) return; // nothing new: nothing replaced or read out
    box.replaceChildren(document.importNode(table, true));
    if (status) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = box.dataset.updated; }, 50);
    }
  }

  function refresh() {
    window.clearTimeout(timer);
    timer = null;
    if (stopped || document.visibilityState !== "visible") return; // a hidden tab asks nothing
    fetch(box.dataset.boardUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.status === 404 || response.status === 403) { stopped = true; return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html) show(html);
        schedule();
      }, schedule); // offline for a moment: try again later
  }

  function schedule() {
    if (!stopped && timer === null && document.visibilityState === "visible") timer = window.setTimeout(refresh, every);
  }

  document.addEventListener("visibilitychange", refresh);
  schedule();
})();
