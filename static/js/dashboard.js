// Cohort dashboard: four Chart.js charts from the JSON the page embeds.
(function () {
  "use strict";
  var script = document.currentScript;
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var label = function (name) { return script.dataset[name]; };
  var common = { responsive: true, maintainAspectRatio: false, animation: false };
  function chart(id, type, labels, datasets, options) {
    var canvas = document.getElementById(id);
    if (!canvas || !window.Chart) return;
    canvas.chart = new window.Chart(canvas, { type: type, data: { labels: labels, datasets: datasets }, options: Object.assign({}, common, options || {}) });
  }
  chart("chart-progress", "bar", data.progress.labels, [{ label: label("learners"), data: data.progress.learners, backgroundColor: "#3153d4" }],
        { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } });
  chart("chart-pass", "bar", data.pass_rates.labels, [{ label: label("percent"), data: data.pass_rates.percent, backgroundColor: "#137a3a" }],
        { indexAxis: "y", scales: { x: { beginAtZero: true, max: 100 } } });
  chart("chart-runs", "bar", data.runs_per_day.labels, [
    { label: label("runs"), data: data.runs_per_day.runs, backgroundColor: "#9fb0ef" },
    { label: label("passed"), data: data.runs_per_day.passed, backgroundColor: "#137a3a" }
  ], { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } });
  chart("chart-wait", "line", data.queue_wait.labels, [{ label: label("seconds"), data: data.queue_wait.median_seconds, borderColor: "#9a6700", spanGaps: true }],
        { scales: { y: { beginAtZero: true } } });
})();
