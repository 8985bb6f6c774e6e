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

/* Console set-up, one save per section (issue 13): never lose what was typed without a warning.
   A section whose fields differ from what the page was drawn with shows "Unsaved changes"; the
   browser asks before the page is left with one, and sending another form (another section's
   save, an import, archive) asks first. A remove box ticked makes the save ask for confirmation
   (confirm.js), naming what goes. New rows' ids follow their label until the id is edited. */
(function () {
  "use strict";
  var forms = Array.prototype.slice.call(document.querySelectorAll("form[data-section]"));
  if (!forms.length) return;
  var warning = document.getElementById("unsaved-warning");
  var initial = new Map();
  var leaving = false;

  function state(form) {
    var pairs = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf" && typeof value === "string") pairs.push(name + "=" + value);
    });
    return pairs.join("&");
  }
  function dirty(form) {
    return form.hasAttribute("data-unsaved") || state(form) !== initial.get(form);
  }
  function mark(form) {
    var flag = form.closest("section").querySelector(".dirty-flag");
    if (flag) flag.hidden = !dirty(form);
  }
  function title(form) {
    var h = form.closest("section").querySelector("h2");
    var copy = h.cloneNode(true);
    Array.prototype.forEach.call(copy.querySelectorAll(".dirty-flag"), function (f) { f.remove(); });
    return copy.textContent.trim();
  }

  // --- ids from labels -----------------------------------------------------------------------
  var MAX_ID = 64; // records.MAX_ID
  function slug(text) {
    var plain = text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
    return plain.replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, MAX_ID)
      .replace(/-+$/, "");
  }
  function unique(form, base, self) {
    var taken = {};
    Array.prototype.forEach.call(form.querySelectorAll(".id-field"), function (f) {
      if (f !== self && f.value) taken[f.value] = true;
    });
    var candidate = base;
    for (var n = 2; taken[candidate]; n++) {
      var suffix = "-" + n;
      candidate = base.slice(0, MAX_ID - suffix.length).replace(/-+$/, "") + suffix;
    }
    return candidate;
  }

  // "Add another": a copy of the last blank row (or proposal), numbered next, empty.
  var NAMED = ["id", "name", "for", "data-slug-source", "aria-describedby"];
  function addRow(form) {
    var rows = form.querySelectorAll("[data-row]");
    var blanks = form.querySelectorAll("[data-blank-row]");
    if (!blanks.length) return;
    var last = blanks[blanks.length - 1];
    var next = rows.length;
    var copy = last.cloneNode(true);
    var old = new RegExp("^(seg|prop)-" + last.getAttribute("data-row") + "(?=-|$)");
    copy.setAttribute("data-row", String(next));
    [copy].concat(Array.prototype.slice.call(copy.querySelectorAll("*"))).forEach(function (el) {
      NAMED.forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v) el.setAttribute(attr, v.replace(old, "$1-" + next));
      });
      if (el.hasAttribute("data-n-text")) {
        el.textContent = el.getAttribute("data-n-text").replace("%(n)s", String(next + 1));
      }
      if (el.classList.contains("field-error")) { el.remove(); return; }
      el.removeAttribute("aria-invalid");
      if (el.tagName === "TEXTAREA") el.value = "";
      if (el.tagName === "INPUT" && el.type !== "hidden") {
        if (el.type === "checkbox") el.checked = false;
        else if (el.type === "radio") el.checked = el.value === "keep";
        else el.value = "";
      }
      if (el.classList.contains("id-field")) el.setAttribute("data-auto-id", "");
    });
    last.parentNode.insertBefore(copy, last.nextSibling);
    var first = copy.querySelector("input:not([type=hidden])");
    if (first) first.focus();
  }

  forms.forEach(function (form) {
    var add = form.querySelector("[data-add-row]");
    if (add) {
      add.hidden = false;
      add.addEventListener("click", function () { addRow(form); });
    }
    initial.set(form, state(form));
    mark(form);
    form.addEventListener("input", function (event) {
      var el = event.target;
      if (el.classList && el.classList.contains("id-field")) el.removeAttribute("data-auto-id");
      var target = el.getAttribute && el.getAttribute("data-slug-source");
      var idField = target && document.getElementById(target);
      if (idField && idField.hasAttribute("data-auto-id")) {
        var base = slug(el.value);
        idField.value = base ? unique(form, base, idField) : "";
      }
      mark(form);
    });
    form.addEventListener("change", function () { mark(form); });

    form.addEventListener("submit", function (event) {
      var others = forms.filter(function (f) { return f !== form && dirty(f); });
      var confirmed = form.querySelector("input[name=confirm]");
      if (others.length && !confirmed && warning) {
        var text = warning.textContent.replace("%(sections)s", others.map(title).join(", "));
        if (!window.confirm(text)) {
          event.preventDefault();
          event.stopPropagation(); // nor ask confirm.js's question
          return;
        }
      }
      // Ask (confirm.js) only when something is ticked for removal, naming it.
      var removing = Array.prototype.filter.call(
        form.querySelectorAll("input[data-remove]"), function (box) { return box.checked; }
      ).map(function (box) { return "“" + box.getAttribute("data-remove") + "”"; });
      if (form.hasAttribute("data-confirm") || form.hasAttribute("data-confirm-stash")) {
        if (!form.hasAttribute("data-confirm-stash")) {
          form.setAttribute("data-confirm-stash", form.getAttribute("data-confirm"));
        }
        if (removing.length) {
          form.setAttribute("data-confirm", form.getAttribute("data-confirm-stash"));
          form.setAttribute("data-confirm-params", JSON.stringify({ items: removing.join(", ") }));
        } else {
          form.removeAttribute("data-confirm");
        }
      }
      leaving = true; // the other sections' edits were confirmed lost above
    });
  });

  // Any other form on the page (CSV import, archive…) leaves the unsaved sections behind too.
  Array.prototype.forEach.call(document.querySelectorAll("form:not([data-section])"), function (form) {
    if (form.method === "dialog") return;
    form.addEventListener("submit", function (event) {
      var others = forms.filter(dirty);
      if (!others.length || !warning) { leaving = true; return; }
      var text = warning.textContent.replace("%(sections)s", others.map(title).join(", "));
      if (window.confirm(text)) { leaving = true; return; }
      event.preventDefault();
      event.stopPropagation();
    });
  });

  window.addEventListener("beforeunload", function (event) {
    if (leaving || !forms.some(dirty)) return;
    event.preventDefault();
    event.returnValue = ""; // the browser shows its own "Leave site?" words
  });

  // Cancelled in confirm.js's dialog: nothing was sent, so leaving the page asks again.
  var dialog = document.getElementById("confirm-dialog");
  if (dialog) {
    dialog.addEventListener("close", function () {
      if (dialog.returnValue !== "yes") leaving = false;
    });
  }

  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
