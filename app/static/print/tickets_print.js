/* The ticket print sheet: a Print button (the page is printable without it, from the menu). */
(function () {
  "use strict";
  var button = document.getElementById("print-button");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
