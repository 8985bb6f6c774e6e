/* Console set-up: keep the help beside R and m (#rule-help, app/rules/guidance.py) in step with
   what the facilitator types. The server renders the same help into the page, so without this
   script it is right for the saved values; with it, each change of R, m or the expected
   attendance fetches guidance.json for the typed values and shows its sentences. */
(function () {
  "use strict";
  var help = document.getElementById("rule-help");
  if (!help || !window.fetch) return;
  var fields = {
    ratio: document.getElementById("s-ratio"),
    group_min: document.getElementById("s-m"),
    expected_attendance: document.getElementById("s-expected")
  };
  // Typing "12" sends "1" then "12": wait until the typing pauses, and let only the newest answer
  // through, so a slow "1" cannot overwrite the "12" that arrived first.
  var DEBOUNCE_MS = 250;
  var timer = null;
  var latest = 0;

  function show(guidance) {
    help.textContent = "";
    guidance.explanation.forEach(function (text) {
      var p = document.createElement("p");
      p.textContent = text;
      help.appendChild(p);
    });
    guidance.warnings.forEach(function (text) {
      var p = document.createElement("p");
      p.className = "notice";
      p.textContent = text;
      help.appendChild(p);
    });
  }

  function refresh() {
    var query = new URLSearchParams();
    for (var name in fields) {
      var field = fields[name];
      if (!field) continue;
      // A value the form would refuse (empty R or m, 0, 2.5): keep the last help until it is
      // one it would take; the browser's own validation says what is wrong with it.
      if (!field.checkValidity()) return;
      query.set(name, field.value.trim());
    }
    var mine = ++latest;
    fetch(help.getAttribute("data-url") + "?" + query.toString(), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (guidance) {
        if (guidance && mine === latest) show(guidance);
      })
      .catch(function () { /* offline for a moment: the help shown stays until the next edit */ });
  }

  Object.keys(fields).forEach(function (name) {
    if (!fields[name]) return;
    fields[name].addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, DEBOUNCE_MS);
    });
  });
})();
