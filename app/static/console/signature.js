// The charter's signature pad (console/charter.html, issue 17): draw with a finger, a stylus or
// a mouse on the <canvas>; the strokes go into the form's hidden `drawing` field as the path the
// server accepts (app/rules/charter_sign.py: "M x y L x y ...", whole numbers on a 600 x 200
// grid). The pad is optional: without JavaScript, or without a pointer, the form signs without
// a drawing. Clear empties both.
(function () {
  "use strict";
  var W = 600, H = 200, MAX_POINTS = 4000;
  document.querySelectorAll("[data-signature-pad]").forEach(function (pad) {
    var canvas = pad.querySelector("canvas");
    var field = pad.querySelector("input[name=drawing]");
    var clear = pad.querySelector("[data-signature-clear]");
    if (!canvas || !field) return;
    pad.hidden = false;
    var ctx = canvas.getContext("2d");
    var parts = [], points = 0, down = false;
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.strokeStyle = "#000";

    function at(e) {
      var r = canvas.getBoundingClientRect();
      var x = Math.round(((e.clientX - r.left) / r.width) * W);
      var y = Math.round(((e.clientY - r.top) / r.height) * H);
      return [Math.max(0, Math.min(W, x)), Math.max(0, Math.min(H, y))];
    }
    canvas.addEventListener("pointerdown", function (e) {
      if (points >= MAX_POINTS) return;
      down = true;
      canvas.setPointerCapture(e.pointerId);
      var p = at(e);
      parts.push("M " + p[0] + " " + p[1]);
      points += 1;
      ctx.beginPath();
      ctx.moveTo(p[0], p[1]);
      e.preventDefault();
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!down || points >= MAX_POINTS) return;
      var p = at(e);
      parts.push("L " + p[0] + " " + p[1]);
      points += 1;
      ctx.lineTo(p[0], p[1]);
      ctx.stroke();
      field.value = parts.join(" ");
      e.preventDefault();
    });
    function up() { down = false; }
    canvas.addEventListener("pointerup", up);
    canvas.addEventListener("pointercancel", up);
    if (clear) {
      clear.addEventListener("click", function () {
        parts = [];
        points = 0;
        field.value = "";
        ctx.clearRect(0, 0, W, H);
      });
    }
  });
})();
