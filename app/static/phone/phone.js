/*
 * The phone page, progressively enhanced: without this script the forms post as usual.
 * With it, every change of a mark saves the whole ballot over the WebSocket (or POST /api when
 * the socket is down), and "Your ballot is saved" appears only after the server's ack.
 * The pending ballot is kept in localStorage, so a reload or a reconnect resends it with the
 * same ballot_id (the server treats a resend as a no-op). When no ack comes within a few
 * seconds the page says so ("Not saved yet — still trying…") and also tries POST /api.
 * Server errors are shown in the page's language by their code (strings err_<code>).
 * Under the items it keeps "4 of 6 answered; the others count as neutral" (#answered, in the
 * round's kind's words) up to date and tells screen readers once the voter pauses; the Save
 * button, needed only without this script, is hidden by CSS once the page has class "js".
 * While a round is open the 'about you' box is collapsed and the open-round bar leads.
 * A round opening, closing or being revealed comes in the socket's snapshot with the ballot
 * section ready to swap in (`ballot_html`, drawn for no one in particular): the page fills in
 * this voter's own marks (from `you` and acks) and the CSRF token. Only a snapshot without it
 * makes the page fetch GET /m/{code}/ballot.
 */
(function () {
  'use strict';

  var C = window.Covote;
  var doc = document;
  if (!C || !C.live || !window.WebSocket || !window.JSON) return;

  var page = C.readJSON('page-data');
  var S = C.readJSON('strings') || {};
  if (!page) return;
  doc.documentElement.className += ' js';

  var code = page.code;
  var PENDING_KEY = 'covote:pending:' + code;
  // Server errors worth retrying as is; a rate-limited ballot is sent again after a pause.
  var KEEP_PENDING_ON = { storage_unavailable: true, rate_limited: true };
  var RATE_LIMITED_RETRY_MS = 15000; // the per-voter limit counts saves over a minute
  var ACK_WITHIN_MS = 5000; // no ack by then: say so, and try the HTTP path as well
  // The server's store was busy or down: the same ballot again after this pause (there is no
  // Save button to tap with scripts on, so the page retries by itself).
  var STORAGE_RETRY_MS = 3000;
  // The count is read out once the voter has paused this long, not on every tap.
  var COUNT_QUIET_MS = 1500;

  var pending = null;     // {ballot_id, round, marks}: sent, not yet acknowledged
  var mine = null;        // {round, marks}: this voter's newest stored ballot, as far as known
  var shown = readShown(); // the round the #ballot section shows
  var latest = null;       // newest snapshot
  var fixed = !!page.voted; // segments are read-only once this voter has voted
  var declared = page.declared || [];
  var loading = false;
  var conn = null;
  var everOpen = false;
  var failures = 0;
  var slowTimer = null;
  var countTimer = null;
  var countSpoken = null; // the count text last read out (or shown when the ballot appeared)

  // ---- storage (localStorage may be missing or throw in private mode) --------------------

  var memory = {};
  function storeGet(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (e) {
      return Object.prototype.hasOwnProperty.call(memory, key) ? memory[key] : null;
    }
  }
  function storeSet(key, value) {
    memory[key] = value;
    try {
      window.localStorage.setItem(key, value);
    } catch (e) {
      /* memory copy is enough for this page's life */
    }
  }
  function storeDel(key) {
    delete memory[key];
    try {
      window.localStorage.removeItem(key);
    } catch (e) {
      /* ignore */
    }
  }

  function loadPending() {
    try {
      var p = JSON.parse(storeGet(PENDING_KEY) || 'null');
      if (p && typeof p.ballot_id === 'string' && typeof p.round === 'number' && p.marks) return p;
    } catch (e) {
      /* unreadable: forget it */
    }
    return null;
  }
  function setPending(p) {
    pending = p;
    if (p) storeSet(PENDING_KEY, JSON.stringify(p));
    else storeDel(PENDING_KEY);
  }

  // ---- small DOM helpers -----------------------------------------------------------------

  function $(id) {
    return doc.getElementById(id);
  }
  function each(list, fn) {
    Array.prototype.forEach.call(list, fn);
  }
  function readShown() {
    var el = $('ballot');
    if (!el) return { id: null, number: null, status: 'none', revealed: false };
    var id = el.getAttribute('data-round-id');
    return {
      id: id ? Number(id) : null,
      number: el.getAttribute('data-round-number') || '',
      status: el.getAttribute('data-round-status') || 'none',
      revealed: el.getAttribute('data-revealed') === 'true'
    };
  }
  function ballotForm() {
    return $('ballot-form');
  }

  var announceTimer = null;
  function announce(text) {
    var el = $('announce');
    if (!el) return;
    el.textContent = '';
    clearTimeout(announceTimer);
    // A short gap so the same words twice are still read out.
    announceTimer = setTimeout(function () {
      el.textContent = text;
    }, 100);
  }

  function showAlert(text) {
    var el = $('alert');
    if (el) el.textContent = text || '';
  }

  var STATUS_CLASSES = ['is-saving', 'is-saved', 'is-offline', 'is-error'];
  function setStatus(kind, text) {
    var el = $('save-status');
    if (!el) return;
    var cls = { saving: 'is-saving', saved: 'is-saved', offline: 'is-offline', error: 'is-error' }[kind];
    STATUS_CLASSES.forEach(function (c) {
      el.classList.remove(c);
    });
    if (cls) el.classList.add(cls);
    el.textContent = text || S[kind] || S.not_saved || '';
  }

  function setConn(kind) {
    var el = $('conn');
    if (!el) return;
    el.hidden = false;
    el.classList.remove('is-open', 'is-down');
    if (kind === 'open') el.classList.add('is-open');
    if (kind === 'down') el.classList.add('is-down');
    el.textContent = S['conn_' + kind] || '';
  }

  // ---- the ballot ------------------------------------------------------------------------

  function newBallotId() {
    var bytes = new Uint8Array(16);
    var cryptoObj = window.crypto || window.msCrypto;
    if (cryptoObj && cryptoObj.getRandomValues) {
      cryptoObj.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    var hex = '';
    for (var j = 0; j < 16; j++) hex += (bytes[j] < 16 ? '0' : '') + bytes[j].toString(16);
    return hex;
  }

  // The ballot form's answers, as the server takes them: a radio's value, a text's (trimmed,
  // none when empty), a multiple choice's ticked values joined with ';' in the page's order.
  function formMarks(form) {
    var marks = {};
    var count = 0;
    each(form.elements, function (el) {
      if (!el.name || el.name.indexOf('mark:') !== 0) return;
      var key = el.name.slice(5);
      var value = null;
      if ((el.type === 'radio' || el.type === 'checkbox') && el.checked) value = el.value;
      else if ((el.type === 'text' || el.type === 'number') && el.value.trim()) value = el.value.trim();
      if (value === null) return;
      marks[key] = el.type === 'checkbox' && marks[key] ? marks[key] + ';' + value : value;
      count += 1;
    });
    return count ? marks : null;
  }

  function setRadios(marks) {
    var form = ballotForm();
    if (!form || !marks) return;
    each(form.elements, function (el) {
      if (!el.name || el.name.indexOf('mark:') !== 0) return;
      var answer = marks[el.name.slice(5)];
      if (el.type === 'radio') el.checked = answer === el.value;
      else if (el.type === 'checkbox') el.checked = (answer || '').split(';').indexOf(el.value) >= 0;
      else if (el.type === 'text' || el.type === 'number') el.value = answer || '';
    });
  }

  // The #answered line: how many of the round's items have an answer, in the wording the server
  // put on it (data-all: none or every item answered; data-some: the kind's words for the rest).
  function countText() {
    var el = $('answered');
    var form = ballotForm();
    if (!el || !form) return null;
    var total = Number(el.getAttribute('data-total')) || 0;
    var answered = Object.keys(formMarks(form) || {}).length;
    var some = answered > 0 && answered < total;
    var text = el.getAttribute(some ? 'data-some' : 'data-all') || '';
    return C.fmt(text, { answered: answered, total: total });
  }

  // Show the count now; with `speak`, read it out once the voter pauses, if it changed.
  function updateCount(speak) {
    var el = $('answered');
    var text = countText();
    if (!el || text === null) return;
    el.textContent = text;
    clearTimeout(countTimer);
    if (!speak) {
      countSpoken = text;
      return;
    }
    countTimer = setTimeout(function () {
      var now = countText();
      if (now !== null && now !== countSpoken) {
        countSpoken = now;
        announce(now);
      }
    }, COUNT_QUIET_MS);
  }

  // The ballot section was swapped in or its marks filled in: a kind's own script (the
  // survey's screens, survey.js) lays it out again.
  function ballotChanged() {
    var ev;
    try {
      ev = new CustomEvent('covote:ballot');
    } catch (e) {
      return;
    }
    doc.dispatchEvent(ev);
  }

  function castFromForm() {
    var form = ballotForm();
    if (!form || shown.status !== 'open') return;
    var marks = formMarks(form);
    if (!marks) {
      setStatus('error', S.choose_first);
      return;
    }
    setPending({ ballot_id: newBallotId(), round: shown.id, marks: marks });
    showAlert('');
    setStatus('saving');
    sendPending(true);
  }

  // Send the pending ballot over the socket; when it is down and `tryHttp`, over POST /api.
  function sendPending(tryHttp) {
    var p = pending;
    if (!p) return;
    var body = { type: 'cast', ballot_id: p.ballot_id, round: p.round, marks: p.marks };
    if (conn && conn.send(body)) {
      setStatus('saving');
      watchAck(p);
      return;
    }
    setStatus('offline');
    if (tryHttp) postBallot(p);
  }

  // The socket took it but no ack came: the network may be gone without the browser knowing.
  function watchAck(p) {
    clearTimeout(slowTimer);
    slowTimer = setTimeout(function () {
      if (!pending || pending.ballot_id !== p.ballot_id) return;
      setStatus('offline', S.slow);
      postBallot(p);
    }, ACK_WITHIN_MS);
  }

  // A server error in the page's language when we know its code, else the server's words
  // (already in the browser's language). A conflict or a refused voter has several causes
  // (groups fixed after voting, a ballot already cast on another channel, a keypad holder, a
  // ticket moved to another device or revoked): the server says which.
  function errorText(errCode, message) {
    // The limiter's message says how long to wait, already in the page's language.
    var own = { conflict: true, not_joined: true, rate_limited: true };
    if (own[errCode] && message) return message;
    return S['err_' + errCode] || message;
  }

  function postBallot(p) {
    if (!window.fetch) return;
    fetch('/api/m/' + encodeURIComponent(code) + '/ballot', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Covote-CSRF': page.csrf },
      body: JSON.stringify({ ballot_id: p.ballot_id, round: p.round, marks: p.marks })
    })
      .then(function (res) {
        if (res.status === 200) {
          acked(p.ballot_id);
          return null;
        }
        return res.json().then(
          function (data) {
            var err = (data && data.error) || {};
            failed(p.ballot_id, err.code || 'error', err.message || String(res.status));
          },
          function () {
            failed(p.ballot_id, 'http_' + res.status, String(res.status));
          }
        );
      })
      .catch(function () {
        // No network: it stays pending and goes out when the socket is back.
        if (pending && pending.ballot_id === p.ballot_id) setStatus('offline');
      });
  }

  function acked(ballotId) {
    if (!pending || pending.ballot_id !== ballotId) return; // an older version: ignore
    clearTimeout(slowTimer);
    mine = { round: pending.round, marks: pending.marks };
    setPending(null);
    setStatus('saved');
    showAlert('');
    fixSegments(declared);
  }

  function failed(ballotId, errCode, message) {
    if (ballotId && (!pending || pending.ballot_id !== ballotId)) return; // superseded
    message = errorText(errCode, message);
    showAlert(C.fmt(S.not_saved_because || '%(message)s', { message: message }));
    if (!ballotId) return;
    setStatus('error', S.not_saved_error);
    if (!KEEP_PENDING_ON[errCode]) setPending(null);
    var retryMs = { rate_limited: RATE_LIMITED_RETRY_MS, storage_unavailable: STORAGE_RETRY_MS }[errCode];
    if (retryMs) {
      setTimeout(function () {
        if (pending && pending.ballot_id === ballotId) sendPending(true);
      }, retryMs);
    }
  }

  // ---- segments --------------------------------------------------------------------------

  function labelOf(id) {
    var segs = page.segments || [];
    for (var i = 0; i < segs.length; i++) if (segs[i].id === id) return segs[i].label;
    return id;
  }

  function fixSegments(keys) {
    if (fixed) return;
    fixed = true;
    var body = $('segments-body');
    if (!body) return;
    var hadFocus = body.contains(doc.activeElement);
    while (body.firstChild) body.removeChild(body.firstChild);
    var p = doc.createElement('p');
    if (keys && keys.length) {
      p.textContent = S.you_told_us;
      body.appendChild(p);
      var ul = doc.createElement('ul');
      ul.className = 'declared';
      (page.segments || []).forEach(function (s) {
        if (keys.indexOf(s.id) < 0) return;
        var li = doc.createElement('li');
        li.textContent = labelOf(s.id);
        // An untranslated label on a page in another language (see _text.html).
        if (s.original === s.label && doc.documentElement.lang !== 'en') li.lang = 'en';
        ul.appendChild(li);
      });
      body.appendChild(ul);
    } else {
      p.textContent = S.none_chosen;
      body.appendChild(p);
    }
    var note = doc.createElement('p');
    note.className = 'muted';
    note.textContent = S.fixed_note;
    body.appendChild(note);
    if (hadFocus) {
      var h = $('segments-heading');
      if (h) {
        h.setAttribute('tabindex', '-1');
        h.focus();
      }
    }
  }

  // Collapse the 'about you' box when a round opens (the vote leads), open it again when the
  // round ends; never under the voter's hands (focus inside it).
  function foldSegments(fold) {
    var box = $('segments-box');
    if (!box || box.contains(doc.activeElement)) return;
    box.open = !fold;
  }

  function saveSegments() {
    var form = $('segments-form');
    var out = $('segments-status');
    if (!form || fixed || !window.fetch) return;
    var keys = [];
    each(form.elements, function (el) {
      if (el.type === 'checkbox' && el.name === 'segment' && el.checked) keys.push(el.value);
    });
    if (out) out.textContent = S.segments_saving;
    fetch('/api/m/' + encodeURIComponent(code) + '/segments', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Covote-CSRF': page.csrf },
      body: JSON.stringify({ segments: keys })
    })
      .then(function (res) {
        return res.json().then(function (data) {
          if (res.status === 200) {
            declared = (data && data.segments) || keys;
            if (out) out.textContent = S.segments_saved;
            return;
          }
          var err = (data && data.error) || {};
          if (out) out.textContent = '';
          var why = errorText(err.code, err.message || String(res.status));
          showAlert(C.fmt(S.segments_failed, { message: why }));
        });
      })
      .catch(function () {
        if (out) out.textContent = '';
        showAlert(C.fmt(S.segments_failed, { message: S.no_connection }));
      });
  }

  // ---- following the room ----------------------------------------------------------------

  function roundKey(r) {
    if (!r) return 'none';
    return r.id + '/' + r.status + '/' + (r.revealed ? 1 : 0);
  }
  function shownKey() {
    if (shown.id === null) return 'none';
    return shown.id + '/' + shown.status + '/' + (shown.revealed ? 1 : 0);
  }

  function onSnapshot(state) {
    latest = state;
    if (roundKey(state.round) === shownKey()) return;
    if (typeof state.ballot_html === 'string') swapBallot(state.ballot_html);
    else loadBallot();
  }

  // Fetch the ballot section for the new round state and swap it in.
  function loadBallot() {
    if (loading) return; // the answer is checked against the newest snapshot when it comes
    loading = true;
    fetch('/m/' + encodeURIComponent(code) + '/ballot', {
      credentials: 'same-origin',
      headers: { Accept: 'text/html' }
    })
      .then(function (res) {
        if (!res.ok) throw new Error(String(res.status));
        return res.text();
      })
      .then(function (html) {
        loading = false;
        // Only if it is what the newest snapshot shows: a snapshot may have brought a newer
        // section while this one was on its way.
        if (!latest || keyOf(html) === roundKey(latest.round)) swapBallot(html);
        // Only if the room moved on again meanwhile (not merely because snapshots came in).
        if (latest && roundKey(latest.round) !== shownKey()) {
          setTimeout(loadBallot, 1000);
        }
      })
      .catch(function () {
        loading = false;
        setTimeout(function () {
          if (latest && roundKey(latest.round) !== shownKey()) loadBallot();
        }, 3000);
      });
  }

  function sectionKey(fresh) {
    var id = fresh.getAttribute('data-round-id');
    if (!id) return 'none';
    return id + '/' + fresh.getAttribute('data-round-status') + '/' +
      (fresh.getAttribute('data-revealed') === 'true' ? 1 : 0);
  }
  function keyOf(html) {
    var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('ballot');
    return fresh ? sectionKey(fresh) : null;
  }

  function swapBallot(html) {
    var parsed = new DOMParser().parseFromString(html, 'text/html');
    var fresh = parsed.getElementById('ballot');
    var old = $('ballot');
    if (!fresh || !old) return;
    // The same round in the same state is already on the page, with the marks the voter may
    // have changed since this copy left the server: keep what is there.
    if (sectionKey(fresh) === shownKey()) return;
    var hadFocus = old.contains(doc.activeElement);
    var before = shown;
    old.parentNode.replaceChild(doc.importNode(fresh, true), old);
    shown = readShown();
    var bar = parsed.getElementById('round-bar');
    var oldBar = $('round-bar');
    if (bar && oldBar) oldBar.parentNode.replaceChild(doc.importNode(bar, true), oldBar);
    if (shown.status === 'open' && before.status !== 'open') foldSegments(true);
    else if (shown.status !== 'open' && before.status === 'open') foldSegments(false);

    // The section may be drawn for no one in particular: this page's token, this voter's marks.
    var form = ballotForm();
    if (form && form.elements.csrf) form.elements.csrf.value = page.csrf;
    if (mine && mine.round === shown.id) {
      var note = $('ballot-saved');
      if (note) note.hidden = false;
      if (!pending && shown.status === 'open') {
        setRadios(mine.marks);
        setStatus('saved');
      }
    }
    // A pending ballot for an earlier round cannot be counted any more: forget it.
    if (pending && pending.round !== shown.id) setPending(null);
    if (pending && shown.status === 'open' && pending.round === shown.id) {
      setRadios(pending.marks);
      sendPending(false);
    }
    updateCount(false);
    ballotChanged();

    if (shown.status === 'open' && (before.id !== shown.id || before.status !== 'open')) {
      announce(C.fmt(S.round_open, { n: shown.number }));
    } else if (shown.status === 'closed' && before.status === 'open') {
      announce(S.round_closed);
    } else if (shown.revealed && !before.revealed) {
      announce(S.results_ready);
    }
    if (hadFocus) {
      var h = $('ballot-heading');
      if (h) h.focus();
    }
  }

  function onMessage(msg) {
    if (msg.type === 'ack') {
      acked(msg.ballot_id);
    } else if (msg.type === 'error') {
      failed(msg.ballot_id || null, msg.code, msg.message || '');
    } else if (msg.type === 'you') {
      if (msg.segments) declared = msg.segments;
      if (msg.ballot) fixSegments(declared);
      var b = msg.ballot;
      if (b) mine = { round: b.round, marks: b.marks };
      var note = $('ballot-saved');
      if (note && b && b.round === shown.id) note.hidden = false;
      if (!pending && b && shown.status === 'open' && b.round === shown.id) {
        setRadios(b.marks);
        setStatus('saved');
        updateCount(false);
        ballotChanged();
      }
    }
  }

  function onStatus(kind) {
    if (kind === 'open') {
      everOpen = true;
      failures = 0;
      setConn('open');
      sendPending(false);
    } else if (kind === 'connecting') {
      if (!everOpen) setConn('connecting');
    } else if (kind === 'reconnecting') {
      setConn('down');
      failures += 1;
      if (pending) setStatus('offline');
      if (!everOpen && failures === 3) checkGone();
    } else if (kind === 'gone') {
      gone();
    }
  }

  // The server refuses a socket for an unknown meeting before accepting it, which the browser
  // only reports as a failed connection; ask the API whether the meeting still exists.
  function checkGone() {
    if (!window.fetch) return;
    fetch('/api/m/' + encodeURIComponent(code), { credentials: 'same-origin' })
      .then(function (res) {
        if (res.status === 404) {
          if (conn) conn.stop();
          gone();
        }
      })
      .catch(function () {});
  }

  function gone() {
    setConn('down');
    showAlert(S.gone);
  }

  // ---- events (delegated: the ballot section is swapped, the listeners stay) -------------

  doc.addEventListener('change', function (ev) {
    var t = ev.target;
    if (!t || !t.name) return;
    if (t.name.indexOf('mark:') === 0 && t.form && t.form.id === 'ballot-form') {
      updateCount(true);
      castFromForm();
    } else if (t.name === 'segment' && t.form && t.form.id === 'segments-form') {
      saveSegments();
    }
  });

  doc.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (form.id === 'ballot-form') {
      ev.preventDefault();
      if (pending && pending.round === shown.id) sendPending(true);
      else castFromForm();
    } else if (form.id === 'segments-form' && window.fetch) {
      ev.preventDefault();
      saveSegments();
    }
  });

  // ---- start -----------------------------------------------------------------------------

  pending = loadPending();
  if (pending) {
    if (shown.status === 'open' && pending.round === shown.id) {
      setRadios(pending.marks);
      setStatus('saving');
    } else {
      setPending(null);
    }
  }
  updateCount(false);
  if (window.location.search.indexOf('saved=1') >= 0 && window.history.replaceState) {
    // Drop the no-JS "saved" marker so a reload does not suggest a save that did not happen.
    window.history.replaceState(null, '', window.location.pathname + window.location.hash);
  }

  // view=phone: snapshots carry the ballot section, in this page's language.
  var wsPath = '/ws/m/' + encodeURIComponent(code) + '?csrf=' + encodeURIComponent(page.csrf) +
    '&view=phone&lang=' + encodeURIComponent(doc.documentElement.lang || 'en');
  conn = C.live(C.wsUrl(wsPath), {
    onSnapshot: onSnapshot,
    onMessage: onMessage,
    onStatus: onStatus
  });
})();
