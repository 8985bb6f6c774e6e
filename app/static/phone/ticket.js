/* The ticket waiting page: ask the server every few seconds whether the facilitator has
   decided, and move on only then (no reloads while waiting, so a screen reader is not
   interrupted). Without JavaScript the page's <noscript> meta refresh does the same. */
(function () {
  "use strict";
  var card = document.querySelector("[data-ticket-state='waiting']");
  if (!card || !window.fetch) return;
  var every = 1000 * (parseInt(card.getAttribute("data-refresh-s"), 10) || 5);
  function check() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (res) {
        if (res.redirected) { window.location.assign(res.url); return null; }
        return res.text();
      })
      .then(function (text) {
        if (text === null) return;
        if (text.indexOf("data-ticket-state=\"waiting\"") === -1) window.location.reload();
        else window.setTimeout(check, every);
      })
      .catch(function () { window.setTimeout(check, every); });
  }
  window.setTimeout(check, every);
})();
