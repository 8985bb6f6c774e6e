/*
 * The presenter view (app/templates/console/present.html): scales the projector preview (an
 * iframe of /p/CODE?preview=1 at 1920x1080) to the column, reads from it what the screen shows
 * (#proj's data-mode, data-page, data-pages, data-paused, data-proposal: same origin) and says
 * so in words, and sends the buttons' forms with fetch (the page stays; without JavaScript they
 * post and the page reloads). Next, Previous, Pause and Resume carry the page the preview shows,
 * so they act on what the room sees. Keys: ← → Space R J B A (listed on the page).
 */
(function () {
  'use strict';

  var doc = document;
  var root = doc.getElementById('present');
  var frame = doc.getElementById('preview');
  var box = doc.getElementById('preview-frame');
  var stringsEl = doc.getElementById('present-strings');
  if (!root || !frame || !box || !stringsEl || !window.fetch || !window.FormData) return;
  if (!doc.getElementById('screen-error')) return;
  var S = JSON.parse(stringsEl.textContent);
  var status = doc.getElementById('screen-now');
  var pageNow = doc.getElementById('page-now');
  // "Results are not revealed yet": follows the room, so a reveal (or the next round opening)
  // on the Run page in another tab does not leave it stale.
  var notRevealed = doc.getElementById('not-revealed');
  var problem = doc.getElementById('screen-error');
  var WIDTH = 1920;
  var HEIGHT = 1080;
  var POLL_MS = 250; // how often the words follow the preview: a page turn shows within it

  function fmt(s, values) {
    return String(s).replace(/%\((\w+)\)s/g, function (_, k) { return String(values[k]); });
  }

  // ---- the preview, scaled to the column -----------------------------------------------------

  function scale() {
    var k = box.clientWidth / WIDTH;
    frame.style.transform = 'scale(' + k + ')';
    box.style.height = Math.round(HEIGHT * k) + 'px';
  }
  window.addEventListener('resize', scale);
  scale();

  // What the projector in the frame shows now (null until its script has run).
  function shown() {
    var d;
    try {
      d = frame.contentDocument;
    } catch (e) {
      return null;
    }
    var proj = d && d.getElementById('proj');
    if (!proj || !proj.hasAttribute('data-mode')) return null;
    return {
      mode: proj.getAttribute('data-mode'),
      page: Number(proj.getAttribute('data-page')) || 0,
      pages: Number(proj.getAttribute('data-pages')) || 0,
      paused: proj.getAttribute('data-paused') === 'true',
      revealed: proj.getAttribute('data-revealed') === 'true',
      proposal: proj.getAttribute('data-proposal') || ''
    };
  }

  function titleOf(id) {
    var li = root.querySelector('.present-proposals li[data-proposal="' + cssEscape(id) + '"]');
    var t = li && li.querySelector('.present-title');
    return t ? t.textContent : id;
  }

  function cssEscape(text) {
    return window.CSS && CSS.escape ? CSS.escape(text) : String(text).replace(/["\\]/g, '\\$&');
  }

  function words(now) {
    if (now.mode === 'blank') return S.blank;
    if (now.mode === 'join') return S.join;
    if (now.mode === 'ranking') return S.ranking;
    if (now.mode === 'proposal') return fmt(S.proposal, { title: titleOf(now.proposal) });
    if (now.mode === 'page') return fmt(now.paused ? S.page_paused : S.page_turning, { n: now.page });
    if (now.pages > 1 && now.paused) return fmt(S.page_paused, { n: now.page });
    return now.revealed ? S.auto : S.auto_unrevealed; // while voting, no pages turn
  }

  // A button's label and action follow the screen (Pause or Resume, Blank or Unblank).
  function toggle(from, to, label) {
    var button = root.querySelector('button[data-action="' + from + '"]');
    if (!button) return;
    button.setAttribute('data-action', to);
    button.textContent = label;
    button.form.querySelector('input[name="action"]').value = to;
  }

  var said = status.textContent.trim();
  var last = null;
  // What was just asked for, until the preview shows it (or PENDING_MS pass): a quick second
  // press goes on from it (Next twice turns two pages; B twice blanks and unblanks), not from
  // what the preview has not left yet.
  var pending = null;
  var PENDING_MS = 2000;

  function arrived(now, want) {
    if (want.unblank) return now.mode !== 'blank';
    return Object.keys(want).every(function (k) {
      return k === 'at' || now[k] === want[k];
    });
  }

  function follow() {
    var now = shown();
    if (!now) return;
    if (pending && !arrived(now, pending) && Date.now() - pending.at < PENDING_MS) {
      Object.keys(pending).forEach(function (k) {
        if (k !== 'at' && k !== 'unblank') now[k] = pending[k];
      });
      if (pending.unblank) now.mode = 'auto';
    } else {
      pending = null;
    }
    last = now;
    var text = words(now);
    if (text !== said) {
      said = text;
      status.textContent = text;
    }
    var pages = now.pages > 1 ? fmt(S.page_of, { i: now.page, n: now.pages }) : '';
    if (pageNow.textContent !== pages) pageNow.textContent = pages;
    if (now.paused) toggle('pause', 'resume', S.resume);
    else toggle('resume', 'pause', S.pause);
    if (now.mode === 'blank') toggle('blank', 'unblank', S.unblank_button);
    else toggle('unblank', 'blank', S.blank_button);
    root.querySelectorAll('.present-proposals li').forEach(function (li) {
      var on = now.mode === 'proposal' && li.getAttribute('data-proposal') === now.proposal;
      if (on) li.setAttribute('aria-current', 'true');
      else li.removeAttribute('aria-current');
    });
    if (notRevealed && notRevealed.hidden !== now.revealed) notRevealed.hidden = now.revealed;
    root.setAttribute('data-page', String(now.page));
    root.setAttribute('data-pages', String(now.pages));
  }
  setInterval(follow, POLL_MS);
  frame.addEventListener('load', follow);

  // ---- the buttons, sent without leaving the page --------------------------------------------

  // What the screen will show once `action` is applied (as far as the presenter can tell).
  function expected(action, data, now) {
    if (action === 'page') return { mode: 'page', page: Number(data.get('page')) + 1, paused: now.paused };
    if (action === 'pause' || action === 'resume') return { mode: 'page', paused: action === 'pause' };
    if (action === 'unblank') return { unblank: true };
    if (action === 'proposal') return { mode: 'proposal', proposal: data.get('proposal') };
    if (action === 'blank' || action === 'join' || action === 'auto') return { mode: action };
    return null; // the ranking: only once results are revealed; the preview will say
  }

  // One command at a time, in order: B pressed twice must blank, then unblank.
  var queue = Promise.resolve();

  function send(form) {
    var data = new FormData(form);
    var action = data.get('action');
    var now = last || shown();
    // Next and Previous go from the page the room sees, round to the other end like the
    // projector's own keys; Pause and Resume keep that page.
    if (now && now.pages > 0 && (action === 'next' || action === 'previous')) {
      var step = action === 'next' ? 1 : -1;
      action = 'page';
      data.set('action', action);
      data.set('page', String((now.page - 1 + step + now.pages) % now.pages));
    } else if (now && now.pages > 0 && (action === 'pause' || action === 'resume')) {
      data.set('page', String(now.page - 1));
    }
    var want = now ? expected(action, data, now) : null;
    if (want) {
      want.at = Date.now();
      pending = want;
      follow();
    }
    // form.action would be the field named "action": the form's address is its attribute.
    var address = form.getAttribute('action');
    queue = queue.then(function () {
      return fetch(address, {
        method: 'POST',
        body: data,
        credentials: 'same-origin',
        headers: { Accept: 'application/json' }
      })
        .then(function (res) {
          return res.json().then(function (body) {
            if (!res.ok) throw new Error((body && body.error && body.error.message) || res.statusText);
            problem.textContent = '';
            return body;
          });
        })
        .catch(function (e) {
          pending = null;
          var known = e && e.message && !(e instanceof TypeError);
          problem.textContent = known ? fmt(S.failed, { why: e.message }) : S.offline;
        });
    });
    return queue;
  }

  root.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.classList || !form.classList.contains('screen-form')) return;
    e.preventDefault();
    send(form);
  });

  // ---- keys ---------------------------------------------------------------------------------

  var KEYS = {
    ArrowLeft: 'previous',
    ArrowRight: 'next',
    ' ': 'pause',
    r: 'ranking',
    j: 'join',
    b: 'blank',
    a: 'auto'
  };

  doc.addEventListener('keydown', function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || e.defaultPrevented) return;
    var tag = (e.target && e.target.tagName) || '';
    // A key meant for a field is left to it, and Space to the button or link it presses; the
    // other keys do nothing on a button, so they work right after a click on one.
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag)) return;
    var action = KEYS[e.key.length === 1 ? e.key.toLowerCase() : e.key];
    if (!action) return;
    if (action === 'pause' && /^(BUTTON|A|SUMMARY)$/.test(tag)) return;
    var button = root.querySelector('button[data-action="' + action + '"]');
    if (action === 'pause' && !button) button = root.querySelector('button[data-action="resume"]');
    if (action === 'blank' && !button) button = root.querySelector('button[data-action="unblank"]');
    if (!button) return;
    e.preventDefault();
    send(button.form);
  });
})();
