// A lab's authoring page while its reference run is active: follows the run (state, score, reason, the
// log's tail) by polling its progress.json, and reloads the page when the run ends, so that the lab's
// state and buttons are those of the finished run. Without JavaScript the page refreshes itself.
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

  function poll() {
    fetch(url + "?since=" + curveLength, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (p) {
        render(p);
        if (p.final) window.location.reload();
        else window.setTimeout(poll, pollMs);
      })
      .catch(function () { window.setTimeout(poll, pollMs * 5); });
  }

  window.setTimeout(poll, pollMs);
})();
