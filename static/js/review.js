// Review page: clicking a line number starts a "N: " comment in the line-comments box; an approval
// with under half of the rubric's points shows a warning and needs "Approve anyway" ticked (the
// server refuses it too: this only says so before the round trip).
(function () {
  "use strict";
  var box = document.getElementById("id_line_comments");
  if (box) {
    var start = function (line) {
      var prefix = box.value && !box.value.endsWith("\n") ? "\n" : "";
      box.value += prefix + line + ": ";
      box.focus();
    };
    document.querySelectorAll(".code-lines .ln[data-line]").forEach(function (el) {
      el.addEventListener("click", function () { start(el.dataset.line); });
      el.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); start(el.dataset.line); } });
    });
  }

  var form = document.getElementById("review-form");
  var ruleEl = document.getElementById("points-rule");
  var warning = document.getElementById("low-points");
  if (!form || !ruleEl || !warning) return;
  var rule = JSON.parse(ruleEl.textContent);
  var figure = document.getElementById("low-points-figure");
  var confirmBox = document.getElementById("id_confirm_low_points");

  function lowPoints() {
    var verdict = form.querySelector("input[name=verdict]:checked");
    if (!verdict || verdict.value !== "approved" || !rule.max) return null;
    var points = 0;
    form.querySelectorAll("input[type=radio][name^=criterion_]:checked").forEach(function (el) {
      points += rule.levels[el.value] || 0;
    });
    return points < rule.share * rule.max ? points : null;
  }
  function update() {
    var points = lowPoints();
    warning.hidden = points === null;
    if (points !== null) figure.textContent = points + " / " + rule.max;
  }
  form.addEventListener("change", function (e) { if (e.target !== confirmBox) update(); });
  form.addEventListener("submit", function (e) {
    update();
    if (!warning.hidden && !confirmBox.checked) {
      e.preventDefault();
      confirmBox.focus();
    }
  });
  if (warning.hidden) update();
})();
