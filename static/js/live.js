// The page's one stream of change hints (core/live.py). templates/core/_live_script.html renders this
// script before the page scripts, with a token for the topics the page may follow: the viewer's own
// ("user:<id>": the badge, a mentor's queue) and the page's (a run, a leaderboard, a job). The events
// server sends {"topic": …} when a thing changed; the page script then fetches it through its usual URL.
// One EventSource per page, never more: a browser opens at most six connections to a host.
//
// window.academyLive:
//   on(topic, callback)      callback(message) for each message on the topic
//   state()                  "connecting", "open" (the stream is ready), or "down" (from an error until ready)
//   onState(callback)        callback(state) at each change
//   userTopic                the viewer's own topic ("" when signed out)
//   follow(topic, options)   how page scripts use it (below): fetch on a hint, poll while the stream is not open
// Without a token (signed out) or without EventSource the state is "down" for good, and so it stays
// after a refusal (a 403 for an expired token closes the stream): the page scripts poll as they did.
// While the stream breaks off (the events server restarts) the browser reconnects by itself.
(function () {
  "use strict";
  var script = document.currentScript;
  var token = script.dataset.token || "";
  var port = Number(script.dataset.port) || 0;
  var handlers = {};
  var stateHandlers = [];
  var current = token && window.EventSource ? "connecting" : "down";

  function on(topic, callback) {
    (handlers[topic] = handlers[topic] || []).push(callback);
  }

  function onState(callback) { stateHandlers.push(callback); }

  function setState(next) {
    if (next === current) return;
    current = next;
    stateHandlers.slice().forEach(function (callback) { callback(next); });
  }

  function deliver(event) {
    var message;
    try { message = JSON.parse(event.data); } catch (e) { return; }
    if (!message || typeof message.topic !== "string") return;
    (handlers[message.topic] || []).slice().forEach(function (callback) { callback(message); });
  }

  // Keep a page part current: ``options.refresh()`` fetches it and returns a promise, resolved with
  // false once the thing no longer changes by itself (a run that ended: the polling stops; hints are
  // still followed), rejected when the fetch failed. It is called
  //  - for each message on ``topic`` that ``options.accepts(message)`` (all by default),
  //  - every ``options.every`` ms while the stream is not open (the fallback; ``backoff`` times as long
  //    after a failure), unless ``options.ended`` from the start,
  //  - once when the stream opens after being down (it may have missed hints meanwhile), and with
  //    ``options.catchUp`` at its first opening too (a hint sent between the page's rendering and then);
  // never while ``options.paused()`` (a hidden tab), and never twice at once: a burst of hints during a
  // fetch makes one more fetch after it. Returns {now: ask at once}.
  function follow(topic, options) {
    var every = options.every || 0;
    var paused = options.paused || function () { return false; };
    var polling = !options.ended;
    var busy = false;
    var again = false;
    var timer = null;
    var wasDown = current === "down";

    function schedule(delay) {
      window.clearTimeout(timer);
      timer = null;
      if (polling && every && current !== "open" && !paused()) timer = window.setTimeout(now, delay);
    }

    function settle(delay) {
      busy = false;
      if (again) {
        again = false;
        now();
      } else {
        schedule(delay);
      }
    }

    function now() {
      window.clearTimeout(timer);
      timer = null;
      if (paused()) return;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      Promise.resolve().then(options.refresh).then(function (more) {
        if (more === false) polling = false;
        settle(every);
      }, function () { settle(every * (options.backoff || 1)); });
    }

    on(topic, function (message) {
      if (!options.accepts || options.accepts(message)) now();
    });
    onState(function (state) {
      if (state === "open") {
        if (wasDown || (options.catchUp && polling)) now();
        else schedule(every);  // clears the polling timer
        wasDown = false;
      } else {
        if (state === "down") wasDown = true;
        if (!busy && timer === null) schedule(every);
      }
    });
    if (current === "open" && options.catchUp && polling) now(); // it opened while the page was loading
    else schedule(every);
    return { now: now };
  }

  window.academyLive = {
    on: on,
    onState: onState,
    state: function () { return current; },
    userTopic: script.dataset.userTopic || "",
    follow: follow
  };

  if (current !== "connecting") return;
  var origin = port ? window.location.protocol + "//" + window.location.hostname + ":" + port : "";
  var source = new window.EventSource(origin + "/events/?token=" + encodeURIComponent(token));
  source.addEventListener("ready", function () { setState("open"); });
  source.addEventListener("message", deliver);
  source.addEventListener("error", function () { setState("down"); });
})();
