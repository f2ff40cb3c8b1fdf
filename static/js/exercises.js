// Exercises in a lesson (templates/courses/_exercise.html): "Check" sends the form with fetch and
// shows the feedback in place (aria-live), with the hints and the worked solution the server says
// are earned; a code cell says "Checking…" and polls its status until the sandbox has answered.
// Without this script each form is a plain POST that comes back to the exercise with the feedback.
(function () {
  "use strict";
  var POLL_MS = 1000;
  var POLL_LIMIT = 90; // polls before giving up (the server gives up on a lost check too)

  function paragraph(text, className) {
    var p = document.createElement("p");
    p.className = className;
    text.split("\n").forEach(function (line, n) {
      if (n) p.appendChild(document.createElement("br"));
      p.appendChild(document.createTextNode(line));
    });
    return p;
  }

  function show(form, data) {
    var feedback = form.querySelector(".exercise-feedback");
    feedback.className = "exercise-feedback " + (data.state || "");
    feedback.replaceChildren(data.message ? paragraph(data.message, "exercise-message") : "");
    var hints = form.querySelector(".exercise-hints");
    if (data.hints) {
      hints.replaceChildren();
      data.hints.forEach(function (html, n) {
        var hint = document.createElement("div");
        hint.className = "exercise-hint";
        hint.innerHTML = "<strong></strong> " + html; // the server's sanitised Markdown (core/markdown.py)
        hint.firstChild.textContent = hints.dataset.label + " " + (n + 1) + ":";
        hints.appendChild(hint);
      });
    }
    var box = form.querySelector(".exercise-solution-box");
    if (data.solution_html && !box.querySelector("details")) {
      var details = document.createElement("details");
      details.className = "exercise-solution";
      details.setAttribute("data-testid", "exercise-solution");
      details.open = !data.solved;
      details.innerHTML = "<summary></summary>" + data.solution_html; // sanitised on the server
      details.firstChild.textContent = box.dataset.label;
      box.appendChild(details);
    }
    if (data.solved) {
      var section = form.closest(".exercise");
      section.classList.add("solved");
    }
    if (window.typesetMath) window.typesetMath(form);
  }

  function poll(form, url, count) {
    if (count > POLL_LIMIT) return;
    window.setTimeout(function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (data.state === "checking") { poll(form, url, count + 1); return; }
          show(form, data);
        })
        .catch(function () { poll(form, url, count + 1); });
    }, POLL_MS);
  }

  function send(form) {
    var button = form.querySelector("button[type=submit]");
    var feedback = form.querySelector(".exercise-feedback");
    button.disabled = true;
    feedback.className = "exercise-feedback checking";
    feedback.replaceChildren(paragraph(form.dataset.checking, "exercise-message"));
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok && response.status !== 429) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        show(form, data);
        if (data.state === "checking" && data.status_url) poll(form, data.status_url, 0);
      })
      .catch(function () {
        feedback.className = "exercise-feedback failed";
        feedback.replaceChildren(paragraph(form.dataset.failed, "exercise-message"));
      })
      .finally(function () { button.disabled = false; });
  }

  function start() {
    document.querySelectorAll("form.exercise-form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        send(form);
      });
      var waiting = form.querySelector(".exercise-feedback[data-poll]");
      if (waiting) poll(form, waiting.dataset.poll, 0);
      var code = form.querySelector("textarea.exercise-code");
      if (code) {
        code.addEventListener("keydown", function (event) {
          // Ctrl/Cmd+Enter checks; Tab stays the browser's (keyboard users leave the box with it).
          if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(form); }
        });
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
