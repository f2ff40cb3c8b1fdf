// A lab's authoring page while its reference run is active: follows the run (state, score, reason, the
// log's tail) from its progress.json, asked again at each change the run's stream tells of
// (static/js/live.js) and polled while the stream is not open, and reloads the page when the run ends,
// so that the lab's state and buttons are those of the finished run. Without JavaScript the page
// refreshes itself.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script.dataset.progressUrl;
  var pollMs = Math.max(1000, parseInt(script.dataset.pollMs, 10) || 2000);
  var curveLength = 0;

  function byId(id) { return document.getElementById(id); }

  function render(p) {
    var state = byId("ref-state");
    state.textContent = p.state_label;
    state.className = "badge " + p.state;
    state.dataset.state = p.state;
    if (p.score !== null) byId("ref-score").textContent = p.score.toFixed(4);
    byId("ref-reason").textContent = p.reason || "";
    byId("ref-reason-row").hidden = !p.reason;
    var log = byId("ref-log");
    log.textContent = p.log.slice(-2000);
    log.scrollTop = log.scrollHeight;
    curveLength = p.curve_length;
  }

  function refresh() {
    return fetch(url + "?since=" + curveLength, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (p) {
        render(p);
        if (p.final) window.location.reload();
        return !p.final;
      });
  }

  window.academyLive.follow(script.dataset.topic, { refresh: refresh, every: pollMs, backoff: 5, catchUp: true });
})();
