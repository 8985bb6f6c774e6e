/* Console: ask before an irreversible action (app/console/confirm.py). A form or submit button
   marked with data-confirm (console/_confirm.html) opens the confirmation <dialog> instead of
   being sent; "Yes" sends it with confirm=yes, which the server takes as confirmed. Without
   this script (or without <dialog>) the server asks on a page of its own, with the same words. */
(function () {
  "use strict";
  var dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var question = document.getElementById("confirm-question");
  var detail = document.getElementById("confirm-detail");
  var yes = document.getElementById("confirm-yes");
  var pending = null; // {form, submitter} while the dialog is open

  function json(el, name) {
    try { return JSON.parse(el.getAttribute(name) || "{}"); } catch (e) { return {}; }
  }
  // %(name)s from the action's parameters, or from a field typed in the form.
  function values(form, el) {
    var out = json(el, "data-confirm-params");
    var fields = json(el, "data-confirm-fields");
    Object.keys(fields).forEach(function (key) {
      var field = form.elements.namedItem(fields[key]);
      if (field && typeof field.value === "string") out[key] = field.value.trim();
    });
    return out;
  }
  function fill(text, vals) {
    return text.replace(/%\((\w+)\)s/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(vals, key) ? String(vals[key]) : whole;
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method === "dialog") return;
    var submitter = event.submitter || null;
    var el = submitter && submitter.hasAttribute("data-confirm") ? submitter
      : form.hasAttribute("data-confirm") ? form : null;
    if (!el || form.querySelector("input[name=confirm]")) return; // nothing to ask, or asked
    event.preventDefault();
    var vals = values(form, el);
    question.textContent = fill(el.getAttribute("data-confirm"), vals);
    detail.textContent = fill(el.getAttribute("data-confirm-detail") || "", vals);
    yes.textContent = fill(el.getAttribute("data-confirm-yes") || "", vals);
    pending = { form: form, submitter: submitter };
    dialog.returnValue = "";
    dialog.showModal();
  });

  dialog.addEventListener("close", function () {
    var asked = pending;
    pending = null;
    if (!asked || dialog.returnValue !== "yes") return; // Cancel or Escape: nothing is sent
    var confirmed = document.createElement("input");
    confirmed.type = "hidden";
    confirmed.name = "confirm";
    confirmed.value = "yes";
    confirmed.setAttribute("data-confirmed", "");
    asked.form.appendChild(confirmed);
    if (asked.submitter && typeof asked.form.requestSubmit === "function") {
      asked.form.requestSubmit(asked.submitter); // keeps the button's name=value (e.g. action)
    } else {
      asked.form.submit();
    }
  });

  // Back to a page kept by the browser: a form confirmed before must ask again.
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-confirmed]"), function (el) {
      el.parentNode.removeChild(el);
    });
  });
})();
