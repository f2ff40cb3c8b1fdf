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
  // Lines of text no wider than `width` on `ctx`: breaks between words, and inside a word that is wider
  // than a line (Chinese titles have no spaces).
  function wrap(ctx, text, width) {
    var lines = [], line = "";
    var fits = function (s) { return ctx.measureText(s).width <= width; };
    String(text).split(" ").forEach(function (word) {
      var next = line ? line + " " + word : word;
      if (fits(next)) { line = next; return; }
      if (line) { lines.push(line); line = ""; }
      Array.from(word).forEach(function (ch) {
        if (line && !fits(line + ch)) { lines.push(line); line = ""; }
        line += ch;
      });
    });
    if (line) lines.push(line);
    return lines;
  }
  // Chart.js gives a side axis at most half the chart's width and clips longer labels: wrap the lab
  // titles to fit it, never skip one, and give each lab room for a few lines.
  var labTicks = {
    autoSkip: false,
    callback: function (value) {
      var ctx = this.ctx;
      ctx.save();
      ctx.font = window.Chart.helpers.toFont(this.options.ticks.font).string;
      var lines = wrap(ctx, this.getLabelForValue(value), this.chart.width * 0.45);
      ctx.restore();
      return lines;
    }
  };
  var passCanvas = document.getElementById("chart-pass");
  if (passCanvas) {
    passCanvas.parentNode.style.height = Math.max(260, 40 + 64 * data.pass_rates.labels.length) + "px";
    passCanvas.setAttribute("aria-label", passCanvas.getAttribute("aria-label") + ": " + data.pass_rates.labels.map(function (title, i) {
      return title + " " + data.pass_rates.percent[i] + " " + label("percent");
    }).join("; "));
  }
  chart("chart-progress", "bar", data.progress.labels, [{ label: label("learners"), data: data.progress.learners, backgroundColor: "#3153d4" }],
        { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } });
  chart("chart-pass", "bar", data.pass_rates.labels, [{ label: label("percent"), data: data.pass_rates.percent, backgroundColor: "#137a3a" }],
        { indexAxis: "y", scales: { x: { beginAtZero: true, max: 100 }, y: { ticks: labTicks } } });
  // The days' charts: every day gets a whole slot (offset), today's included, and the tallest bar or
  // point stays clear of the top edge (grace).
  chart("chart-runs", "bar", data.runs_per_day.labels, [
    { label: label("runs"), data: data.runs_per_day.runs, backgroundColor: "#9fb0ef" },
    { label: label("passed"), data: data.runs_per_day.passed, backgroundColor: "#137a3a" }
  ], { scales: { x: { offset: true }, y: { beginAtZero: true, grace: "10%", ticks: { precision: 0 } } } });
  chart("chart-wait", "line", data.queue_wait.labels, [{ label: label("seconds"), data: data.queue_wait.median_seconds, borderColor: "#9a6700", spanGaps: true }],
        { scales: { x: { offset: true }, y: { beginAtZero: true, grace: "10%" } } });
})();
