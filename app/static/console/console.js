/* Console: live turnout for the facilitator, from the same snapshots the projector gets. */
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.Covote) return;
  var strings = JSON.parse(document.getElementById("strings").textContent);
  var turnout = document.getElementById("turnout");
  var connected = document.getElementById("connected");
  function fmt(s, values) {
    return s.replace(/%\((\w+)\)s/g, function (_, k) { return String(values[k]); });
  }
  // "present" jumped (app/live/surge.py): an alert (role=alert) while the jump is recent; it speaks
  // of the last minute, so it clears itself a minute after the last snapshot that had it.
  var surgeBox = document.getElementById("surge");
  var surgeTimer = null;
  var surgeShown = surgeBox ? surgeBox.textContent.trim() : "";
  function showSurge(surge) {
    if (!surgeBox) return;
    var text = "";
    if (surge) {
      text = fmt(strings.surge_joined, { n: surge.joined });
      if (surge.refused) text += " " + fmt(strings.surge_refused, { n: surge.refused });
      clearTimeout(surgeTimer);
      surgeTimer = setTimeout(function () { showSurge(null); }, 60000);
    }
    if (text === surgeShown) return; // unchanged: do not make screen readers repeat it
    surgeShown = text;
    surgeBox.textContent = "";
    if (text) {
      var p = document.createElement("p");
      p.textContent = text;
      surgeBox.appendChild(p);
    }
  }
  // ?preview=1: this console is not a screen in the room ("N screens and phones connected"
  // counts the phones and projectors the room sees, like the presenter's preview, uncounted).
  Covote.live("/ws/m/" + live.getAttribute("data-code") + "?preview=1", {
    onSnapshot: function (state) {
      var r = state.round;
      turnout.textContent = r && r.status === "open"
        ? fmt(strings.turnout, state.turnout)
        : (r ? fmt(strings.turnout, state.turnout) : strings.waiting);
      connected.textContent = fmt(strings.connected, { n: state.turnout.connected || 0 });
      // Per-channel counts: only the numbers change; the labels are the page's own.
      var byChannel = state.turnout.by_channel || {};
      Array.prototype.forEach.call(document.querySelectorAll("#channels [data-channel]"), function (el) {
        var n = byChannel[el.getAttribute("data-channel")];
        el.querySelector("strong").textContent = String(n || 0);
      });
      if (state.turnout.surge !== undefined) showSurge(state.turnout.surge);
      var registered = document.getElementById("registered");
      if (registered && state.turnout.registered != null) {
        registered.textContent = fmt(strings.registered, { n: state.turnout.registered });
      }
    },
    onStatus: function (status) {
      if (status !== "open") connected.textContent = strings.offline;
    }
  });
})();
