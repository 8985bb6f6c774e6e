// The report inside the console: "Print" prints the page, whose print style leaves the
// console's navigation out (templates/console/report.html). Without scripts the button stays
// hidden and the browser's own Print does the same.
"use strict";
(() => {
  const button = document.getElementById("report-print");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", () => window.print());
})();
