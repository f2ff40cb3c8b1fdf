// Live run page: grows the learning curve, tails the log, shows the score, from progress.json: asked
// again at each change the run's stream tells of (static/js/live.js), polled while the stream is not open.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script.dataset.progressUrl;
  var pollMs = parseInt(script.dataset.pollMs, 10) || 1000;
  var progress = JSON.parse(document.getElementById("run-progress").textContent);
  var points = progress.curve.slice();
  var marks = progress.marks || [];  // the coach's findings: points to mark on the curve
  var chart = null;
  var palette = ["#3153d4", "#d4317a", "#12966b", "#c77700", "#7a3cd4", "#0f8ca8"];

  function byId(id) { return document.getElementById(id); }

  function series() {
    var names = [];
    points.forEach(function (p) { Object.keys(p.metrics || {}).forEach(function (k) { if (names.indexOf(k) < 0) names.push(k); }); });
    return names.map(function (name, i) {
      return {
        label: name, borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length],
        pointRadius: points.length > 60 ? 0 : 2, tension: 0.15, spanGaps: true,
        data: points.filter(function (p) { return name in (p.metrics || {}); })
                    .map(function (p) { return { x: p.step, y: p.metrics[name] }; }),
        yAxisID: /loss|mse|error/i.test(name) ? "loss" : "score"
      };
    });
  }

  function markSets() {  // each finding's evidence, drawn over the curve as large hollow points
    return marks.map(function (m) {
      return {
        label: "⚠ " + m.label, type: "scatter", showLine: false, pointRadius: 7, pointHoverRadius: 9,
        pointStyle: "rectRot", borderColor: "#b3261e", backgroundColor: "rgba(179, 38, 30, 0.15)", borderWidth: 2,
        data: m.points.map(function (p) { return { x: p[0], y: p[1] }; }),
        yAxisID: /loss|mse|error/i.test(m.metric) ? "loss" : "score"
      };
    });
  }

  function drawChart() {
    if (!points.length || typeof Chart === "undefined") return;
    byId("curve-empty").hidden = true;
    var datasets = series().concat(markSets());
    if (!chart) {
      chart = new Chart(byId("curve"), {
        type: "line", data: { datasets: datasets },
        options: {
          animation: false, parsing: false, maintainAspectRatio: false,
          scales: { x: { type: "linear", title: { display: true, text: script.dataset.labelStep } },
                    loss: { type: "linear", position: "left" },
                    score: { type: "linear", position: "right", grid: { drawOnChartArea: false } } }
        }
      });
    } else {
      chart.data.datasets = datasets;
      chart.update("none");
    }
  }

  function render(p) {
    var state = byId("run-state");
    state.textContent = p.state_label;
    state.className = "badge " + p.state;
    state.dataset.state = p.state;
    var reason = byId("run-reason");
    reason.textContent = p.reason || "";
    reason.hidden = !p.reason;
    byId("run-waiting").hidden = !p.waiting || p.queue_unreachable;
    byId("run-queue-unreachable").hidden = !p.queue_unreachable;
    if (p.final && !points.length) {  // it ended without calling run.log: a line, not an empty box
      byId("curve-box").hidden = true;
      byId("curve-empty").textContent = script.dataset.labelNoPoints;
    }
    var log = byId("run-log");
    var atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.textContent = p.log;
    if (p.final) log.dataset.empty = script.dataset.labelNoOutput; // shown while the log is empty
    if (atBottom) log.scrollTop = log.scrollHeight;
    ["device", "torch", "worker", "sandbox"].forEach(function (k) {
      var v = p[k === "torch" ? "torch_version" : k === "worker" ? "worker_host" : k];
      if (v) byId("run-" + k).textContent = v;
    });
    if (p.score !== null) byId("run-score").textContent = p.score.toFixed(4);
    byId("run-sealed").hidden = !p.sealed;  // a score a challenge withholds until its reveal
    if (p.passed !== null) {
      byId("run-verdict").innerHTML = p.passed
        ? '<span class="badge passed"></span>' : '<span class="badge not-passed"></span>';
      byId("run-verdict").firstChild.textContent = p.passed ? script.dataset.labelPassed : script.dataset.labelNotPassed;
    }
    var cancel = byId("cancel-form"), rerun = byId("rerun-form");
    if (cancel) cancel.hidden = p.final;
    if (rerun) rerun.hidden = !p.final;  // a sealed run's re-run is sealed too
    renderDownloads(p.downloads || {});
  }

  function renderDownloads(links) {  // the run's files, once it has them (their links are in the page)
    ["weights", "log", "metrics"].forEach(function (k) { byId("download-" + k).hidden = !links[k]; });
    byId("download-weights-hint").hidden = !links.weights;
    byId("downloads").hidden = !(links.weights || links.log || links.metrics);
  }

  function refresh() {  // false once the run has ended: the polling stops (a reveal's unsealing still shows)
    return fetch(url + "?since=" + points.length, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (p) {
        if (p.curve_length < points.length) points = [];  // a retry started the curve afresh
        points = points.concat(p.curve);
        if (p.diagnosis_html !== undefined) {  // the run ended: the coach's reading, in place
          marks = p.marks || [];
          var coach = byId("coach");
          coach.innerHTML = p.diagnosis_html;
          coach.hidden = !coach.querySelector(".finding");
        }
        render(p);
        drawChart();
        return !p.final;
      });
  }

  render(progress);
  drawChart();
  window.academyLive.follow(script.dataset.topic, {
    refresh: refresh, every: pollMs, backoff: 3, ended: progress.final, catchUp: true
  });
})();
