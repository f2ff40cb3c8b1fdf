// Parts of a page kept current from the server (the review queue, a background job's page): when the
// page's stream (static/js/live.js) tells of a change on data-topic (the viewer's own topic by default,
// its messages with "what" equal to data-what), and every data-poll-seconds while the stream is not open
// (none by default), the page asks for itself again and puts each new [data-live-part] in place of the
// old one of the same name; the polite status line (data-status, an id) says once that the page
// changed. A part that someone is working in (typing in one of its fields, a details open) waits until
// they leave it; a focused link or button keeps the focus (its counterpart, by id or data-testid, takes
// it). A part marked data-final="true" is the last: then the polling stops.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!window.fetch || !window.DOMParser) return;
  var live = window.academyLive;
  var status = document.getElementById(script.dataset.status || "");
  var what = script.dataset.what || "";
  var waiting = null; // a fetched page whose parts wait for the person to leave theirs

  function words(node) { return (node.textContent || "").replace(/\s+/g, " ").trim(); }

  function inUse(part) {
    var focus = document.activeElement;
    var typing = focus && part.contains(focus) && /^(INPUT|SELECT|TEXTAREA)$/.test(focus.tagName);
    return typing || part.querySelector("details[open]") !== null;
  }

  function keyOf(node) {  // a selector for the same element in the new part
    if (node.id) return "#" + CSS.escape(node.id);
    return node.dataset && node.dataset.testid ? '[data-testid="' + CSS.escape(node.dataset.testid) + '"]' : null;
  }

  function replace(part, fresh) {
    var focus = document.activeElement;
    var key = focus && part.contains(focus) ? keyOf(focus) : null;
    part.replaceChildren.apply(part, Array.prototype.map.call(fresh.childNodes, function (node) {
      return document.importNode(node, true);
    }));
    Array.prototype.forEach.call(fresh.attributes, function (attr) { part.setAttribute(attr.name, attr.value); });
    var again = key && part.querySelector(key);
    if (again) again.focus({ preventScroll: true });
  }

  function put(doc) {
    var changed = false;
    var busy = false;
    document.querySelectorAll("[data-live-part]").forEach(function (part) {
      var fresh = doc.querySelector('[data-live-part="' + part.dataset.livePart + '"]');
      if (!fresh || words(fresh) === words(part)) return;
      if (inUse(part)) { busy = true; return; }
      replace(part, fresh);
      changed = true;
    });
    waiting = busy ? doc : null;
    if (changed && status) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = script.dataset.updated || ""; }, 50);
    }
  }

  function putWaiting() {
    if (waiting) window.setTimeout(function () { if (waiting) put(waiting); }, 0); // once the focus has moved
  }

  function refresh() {
    return fetch(window.location.href, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        put(doc);
        return doc.querySelector('[data-live-part][data-final="true"]') === null;
      });
  }

  var every = (Number(script.dataset.pollSeconds) || 0) * 1000;
  live.follow(script.dataset.topic || live.userTopic, {
    refresh: refresh,
    every: every,
    ended: document.querySelector('[data-live-part][data-final="true"]') !== null,
    catchUp: every > 0, // a page that changes by itself (a job at work) may have changed since it was served
    accepts: function (message) { return !what || message.what === what; }
  });
  document.addEventListener("focusout", putWaiting);
  document.addEventListener("toggle", putWaiting, true); // a details closed (toggle does not bubble)
})();
