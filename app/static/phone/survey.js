/*
 * A survey round on the phone, one screen at a time (templates/phone/items_survey.html).
 * Without this script every screen shows and the Save button posts them all. With it, one
 * screen (a service's questions together; then the questions of the survey's own; then the
 * area) shows at a time, with Back and Next. Each Next sends the ballot with every answer so
 * far through phone.js (its submit: the same path as every ballot, one response per voter,
 * a resend replaces). The screen is remembered per round in localStorage, so a reload comes
 * back to it (else to the first screen with no answer), with the answers, which the server
 * draws or phone.js fills in. "7 of 12 services answered" follows the answers, and the hours
 * question of a service hides while its "would do more" is "none of these".
 * A charter consent round's clauses use the same markup (templates/phone/items_charter.html:
 * a screen per clause, its amendments with it), so they page the same way.
 */
(function () {
  'use strict';

  var doc = document;
  var C = window.Covote;
  var PAGE_KEY = 'covote:survey:';
  var current = null; // {round, page}: the screen shown

  function $(id) {
    return doc.getElementById(id);
  }
  function each(list, fn) {
    Array.prototype.forEach.call(list, fn);
  }
  function load(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (e) {
      return null;
    }
  }
  function save(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch (e) {
      /* the page still works; a reload starts at the first screen without answers */
    }
  }
  function fmt(text, values) {
    if (C && C.fmt) return C.fmt(text, values);
    return text.replace(/%\((\w+)\)s/g, function (_, k) { return String(values[k]); });
  }

  function pages() {
    var s = $('survey');
    return s ? s.querySelectorAll('.survey-page') : [];
  }

  // Whether any question on a screen has an answer.
  function answered(page) {
    var found = false;
    each(page.querySelectorAll('input'), function (el) {
      if ((el.type === 'radio' || el.type === 'checkbox') && el.checked) found = true;
      else if ((el.type === 'text' || el.type === 'number') && el.value.trim()) found = true;
    });
    return found;
  }

  function updateProgress() {
    var el = $('survey-progress');
    if (!el) return;
    var n = 0;
    each(pages(), function (p) {
      if (p.hasAttribute('data-service') && answered(p)) n += 1;
    });
    el.textContent = fmt(el.getAttribute('data-text') || '', {
      answered: n,
      total: Number(el.getAttribute('data-total')) || 0
    });
  }

  // A service's hours a month are asked only while it would do more ("none": hidden).
  function toggleHours() {
    each(pages(), function (p) {
      var service = p.getAttribute('data-group');
      var none = p.querySelector('input[name="mark:' + service + '.more"][value="none"]');
      var hours = p.querySelector('[data-item="' + service + '.hours"]');
      if (hours) hours.hidden = !!(none && none.checked);
    });
  }

  function show(number, focus) {
    var s = $('survey');
    var list = pages();
    if (!s || !list.length) return;
    number = Math.max(1, Math.min(list.length, number));
    each(list, function (p, i) {
      p.hidden = i + 1 !== number;
    });
    var back = s.querySelector('[data-survey="back"]');
    var next = s.querySelector('[data-survey="next"]');
    var done = s.querySelector('.survey-done');
    if (back) back.hidden = number === 1;
    if (next) next.hidden = number === list.length;
    if (done) done.hidden = number !== list.length;
    var round = s.getAttribute('data-round');
    current = { round: round, page: number };
    save(PAGE_KEY + round, String(number));
    if (focus) {
      var page = list[number - 1];
      page.setAttribute('tabindex', '-1');
      page.focus();
      if (page.scrollIntoView) page.scrollIntoView();
    }
  }

  function start() {
    var s = $('survey');
    if (!s) {
      current = null;
      return;
    }
    var round = s.getAttribute('data-round');
    var list = pages();
    var page = 0;
    if (current && current.round === round) page = current.page;
    else page = Number(load(PAGE_KEY + round)) || 0;
    if (!(page >= 1 && page <= list.length)) {
      page = 1;
      for (var i = 0; i < list.length; i++) {
        if (!answered(list[i])) {
          page = i + 1;
          break;
        }
      }
    }
    s.classList.add('survey-paged');
    var nav = s.querySelector('.survey-nav');
    if (nav) nav.hidden = false;
    show(page, false);
    toggleHours();
    updateProgress();
  }

  // Next sends the ballot with every answer so far (phone.js takes the form's submit).
  function send() {
    var form = $('ballot-form');
    var any = false;
    each(pages(), function (p) {
      if (answered(p)) any = true;
    });
    if (!form || !any) return;
    var ev;
    try {
      ev = new Event('submit', { bubbles: true, cancelable: true });
    } catch (e) {
      return;
    }
    form.dispatchEvent(ev);
  }

  doc.addEventListener('click', function (ev) {
    var t = ev.target && ev.target.closest ? ev.target.closest('[data-survey]') : null;
    if (!t || !current) return;
    var step = t.getAttribute('data-survey') === 'next' ? 1 : -1;
    if (step > 0) send();
    show(current.page + step, true);
  });

  doc.addEventListener('change', function (ev) {
    var t = ev.target;
    if (!t || !t.name || t.name.indexOf('mark:') !== 0 || !$('survey')) return;
    toggleHours();
    updateProgress();
  });

  doc.addEventListener('covote:ballot', start);
  start();
})();
