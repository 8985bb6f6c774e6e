/* The paper ballot print page: show the Print button (the page works without this script:
   it then asks for the browser's own Print command). */
(function () {
  "use strict";
  var button = document.getElementById("print-button");
  if (!button) return;
  var hint = document.getElementById("print-hint");
  if (hint) hint.hidden = true;
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
