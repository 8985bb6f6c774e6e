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
  Covote.live("/ws/m/" + live.getAttribute("data-code"), {
    onSnapshot: function (state) {
      var r = state.round;
      turnout.textContent = r && r.status === "open"
        ? fmt(strings.turnout, state.turnout)
        : (r ? fmt(strings.turnout, state.turnout) : strings.waiting);
      connected.textContent = fmt(strings.connected, { n: state.turnout.connected || 0 });
    },
    onStatus: function (status) {
      if (status !== "open") connected.textContent = strings.offline;
    }
  });
})();
