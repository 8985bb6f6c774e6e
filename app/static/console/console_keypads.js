/* Console keypad pages: refresh receivers/alerts/step counts; forward capture lines. */
(function () {
  "use strict";
  function text(el, value) { if (el) el.textContent = value; }
  function row(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (c) { var td = document.createElement("td"); td.textContent = c; tr.appendChild(td); });
    return tr;
  }
  function render(s) {
    var rx = document.getElementById("receivers");
    if (rx && s.receivers.length) {
      rx.textContent = "";
      s.receivers.forEach(function (r) {
        rx.appendChild(row([r.name, r.kind + (r.experimental ? " (experimental)" : ""), r.state,
          String(r.presses), r.last_press_ago_s === null ? "—" : r.last_press_ago_s + " s", r.error || ""]));
      });
    }
    if (s.last_press) text(document.getElementById("last-press"), s.last_press.keypad + " → " + s.last_press.key);
    var alerts = document.getElementById("alerts");
    if (alerts && s.alerts.length) {
      alerts.textContent = "";
      s.alerts.slice(0, 15).forEach(function (a) {
        var li = document.createElement("li");
        li.textContent = a.at + " " + a.keypad + ": " + a.message;
        alerts.appendChild(li);
      });
    }
    var step = document.getElementById("step-count");
    if (step && s.step) text(step, stepText(s.step));
  }
  function fill(s, values) {
    return s.replace(/%\((\w+)\)s/g, function (_, k) { return String(values[k]); });
  }
  // The Run page's count for the item keypads answer now, whatever its scale: each key with
  // its answer's label (translated by the server) and how many gave it, e.g. "3 keypad
  // answers on this one: 1 WANT: 2; 2 DON'T WANT: 0; 3 NEUTRAL: 1".
  function stepText(step) {
    var strings = JSON.parse(document.getElementById("strings").textContent);
    var total = 0;
    var parts = (step.answers || []).map(function (a) {
      var n = step.counts[a.value] || 0;
      total += n;
      var name = String(a.key) === a.label ? a.label : a.key + " " + a.label;
      return fill(strings.step_answer, { answer: name, n: n });
    });
    return fill(strings.step_count, { n: total, answers: parts.join(strings.list_sep) });
  }
  // The Run page's "registered keypads are not counting" alert (setup.keypads_idle), kept up to
  // date without a reload: rebuilt only when it changes (role=alert speaks each change once).
  var idleBox = document.getElementById("keypads-idle");
  var idleShown = idleBox ? JSON.stringify(JSON.parse(idleBox.getAttribute("data-idle") || "null")) : "null";
  function renderIdle(idle) {
    var key = JSON.stringify(idle || null);
    if (!idleBox || key === idleShown) return;
    idleShown = key;
    idleBox.textContent = "";
    if (!idle) return;
    var strings = JSON.parse(document.getElementById("strings").textContent);
    var p = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = fill(strings.idle_n, { n: idle.n });
    p.appendChild(strong);
    if (idle.why === "phones_only") {
      p.appendChild(document.createTextNode(" " + fill(strings.idle_phones_only, { r: idle.round })));
    } else {
      p.appendChild(document.createTextNode(" " + strings.idle_no_receiver + " "));
      var a = document.createElement("a");
      a.href = idleBox.getAttribute("data-url").replace(/\/status\.json$/, "");
      a.textContent = strings.idle_link;
      p.appendChild(a);
    }
    idleBox.appendChild(p);
  }

  var box = document.getElementById("keypad-status");
  var stepEl = document.getElementById("step-count");
  var url = box ? box.getAttribute("data-url")
    : (stepEl ? "/console/" + stepEl.getAttribute("data-code") + "/keypads/status.json"
      : (idleBox ? idleBox.getAttribute("data-url") : null));
  // Every second while keypads are stepping or on the keypad desk; else every 3 s (the alert).
  var every = box || stepEl ? 1000 : 3000;
  if (url) {
    var poll = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) { if (s) { render(s); if ("idle" in s) renderIdle(s.idle); } })
        .catch(function () {})
        .then(function () { setTimeout(poll, every); });
    };
    poll();
  }

  var form = document.getElementById("capture");
  if (form) {
    var input = document.getElementById("capture-line");
    var log = document.getElementById("capture-log");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var line = input.value;
      input.value = "";
      if (!line.trim()) return;
      fetch(form.getAttribute("data-url"), {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json",
                   "X-Covote-CSRF": form.getAttribute("data-csrf") },
        body: JSON.stringify({ line: line })
      }).then(function (r) { return r.json().then(function (b) { return [r.ok, b]; }); })
        .then(function (res) {
          var li = document.createElement("li");
          li.textContent = res[0] ? line + " ✓" : line + " — " + res[1].error.message;
          log.insertBefore(li, log.firstChild);
          text(document.getElementById("capture-status"), li.textContent);
        })
        .catch(function () { text(document.getElementById("capture-status"), "Not sent: connection lost."); });
      input.focus();
    });
  }
})();
