/*
 * The projector: paints the meeting from the snapshot embedded in the page, then from every
 * snapshot the WebSocket brings. Results (when revealed) are a card per proposal: title, the
 * category badge and its reason, what the category means for a keep or fund proposal, a stacked
 * WANT / NEUTRAL / DON'T WANT bar with a marker at half the room, and one line per affected
 * group; then the ranking. When the cards do not fit the screen they page by themselves.
 * All text comes from the translated #strings block; user data is set with textContent only.
 */
(function () {
  'use strict';

  var C = window.Covote;
  var doc = document;
  if (!C || !C.live || !window.JSON) return;

  var S = C.readJSON('strings') || {};
  var state = C.readJSON('initial-state');
  if (!state) return;

  var PAGE_EVERY_MS = 15000; // time to read a screenful of results from the back of the hall
  var USER_PAUSE_MS = 30000; // someone scrolled by hand: leave the screen alone for a while

  var ICONS = { SUPPORTED: '\u2713', PROTECTED: '\u25C6', CONTESTED: '?', REJECTED: '\u2717' };

  var els = {
    proj: doc.getElementById('proj'),
    title: doc.getElementById('proj-title'),
    round: doc.getElementById('proj-round'),
    turnout: doc.getElementById('proj-turnout'),
    results: doc.getElementById('results'),
    url: doc.getElementById('join-url'),
    code: doc.getElementById('join-code'),
    conn: doc.getElementById('proj-conn'),
    announce: doc.getElementById('announce')
  };

  var resultsKey = null;
  var painted = false;
  var pagerTimer = null;
  var pausedUntil = 0;
  var everOpen = false;
  var failures = 0;
  var conn = null;

  // ---- helpers ---------------------------------------------------------------------------

  function el(tag, cls, text) {
    var node = doc.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function setText(node, text) {
    if (node && node.textContent !== text) node.textContent = text;
  }

  var announceTimer = null;
  function announce(text) {
    if (!els.announce) return;
    els.announce.textContent = '';
    clearTimeout(announceTimer);
    announceTimer = setTimeout(function () {
      els.announce.textContent = text;
    }, 100);
  }

  function titleOf(p) {
    return C.fmt(p.kind === 'fund' ? S.fund_title : S.keep_title, { title: p.title });
  }

  function badge(category) {
    var b = el('span', 'badge badge-' + String(category).toLowerCase());
    b.appendChild(el('span', 'b-icon', ICONS[category] || '')).setAttribute('aria-hidden', 'true');
    b.appendChild(el('span', 'b-text', S['cat_' + category] || category));
    return b;
  }

  function roundText(s) {
    var r = s.round;
    if (!r) return S.round_none;
    if (r.status === 'open') return C.fmt(S.round_open, { n: r.number });
    if (s.results) return C.fmt(S.round_results, { n: r.number });
    return C.fmt(S.round_closed, { n: r.number });
  }

  function turnoutText(s) {
    var t = s.turnout || {};
    if (!s.round) return C.fmt(S.joined, { present: t.present || 0 });
    return C.fmt(S.turnout, { voted: t.voted || 0, present: t.present || 0 });
  }

  // ---- one proposal ----------------------------------------------------------------------

  function reasonText(p, s) {
    var labels = (p.group_labels || p.groups || []).join(S.list_sep || ', ');
    var ratio = s.meeting && s.meeting.rule ? s.meeting.rule.ratio : 2;
    return C.fmt(S['reason_' + p.reason] || p.reason, { ratio: ratio, groups: labels });
  }

  function bar(p) {
    var wrap = el('div', 'bar-wrap');
    wrap.setAttribute('aria-hidden', 'true'); // the legend under it says the same in words
    var b = el('div', 'bar');
    var V = p.V || 0;
    if (V > 0) {
      [['want', p.W], ['neutral', p.N], ['dont', p.D]].forEach(function (part) {
        var count = part[1] || 0;
        if (!count) return;
        var pct = (count * 100) / V;
        var seg = el('div', 'seg seg-' + part[0]);
        seg.style.width = pct + '%';
        if (pct >= 7) seg.appendChild(el('span', 'num', count));
        b.appendChild(seg);
      });
    }
    wrap.appendChild(b);
    var half = el('div', 'half');
    half.appendChild(el('span', null, S.half));
    wrap.appendChild(half);
    return wrap;
  }

  function legend(p) {
    var box = el('p', 'bar-legend');
    if (!p.V) {
      box.appendChild(el('span', null, S.no_ballots));
      return box;
    }
    [
      ['want', '\u2713 ', S.want, p.W],
      ['neutral', '\u2013 ', S.neutral, p.N],
      ['dont', '\u2717 ', S.dont, p.D]
    ].forEach(function (part) {
      var item = el('span');
      var key = el('span', 'key key-' + part[0]);
      key.setAttribute('aria-hidden', 'true');
      item.appendChild(key);
      item.appendChild(doc.createTextNode(part[1] + part[2] + ' ' + part[3]));
      box.appendChild(item);
    });
    box.appendChild(el('span', 'muted', C.fmt(S.voted_on_it, { v: p.V })));
    return box;
  }

  function groupLines(p, s) {
    var m = s.meeting && s.meeting.rule ? s.meeting.rule.group_min : 5;
    var ul = el('ul', 'groups');
    (p.affected || []).forEach(function (a) {
      var label = a.label || a.group;
      var li = el('li');
      if (a.suppressed) {
        li.textContent = C.fmt(S.group_small, { label: label, m: m });
      } else {
        li.appendChild(
          doc.createTextNode(C.fmt(S.group_line, { label: label, w: a.W, v: a.V, d: a.D }))
        );
        if (a.protects) li.appendChild(el('span', 'protects', ' ' + S.group_protects));
        else if (a.objects) li.appendChild(el('span', 'objects', ' ' + S.group_objects));
      }
      ul.appendChild(li);
    });
    return ul;
  }

  function card(p, s) {
    var art = el('article', 'result cat-' + String(p.category).toLowerCase());
    art.appendChild(el('h3', null, titleOf(p)));
    var verdict = el('p', 'verdict');
    verdict.appendChild(badge(p.category));
    verdict.appendChild(el('span', 'reason', reasonText(p, s)));
    art.appendChild(verdict);
    var means = S['means_' + (p.kind === 'fund' ? 'fund' : 'keep') + '_' + p.category];
    if (means) art.appendChild(el('p', 'meaning', means));
    art.appendChild(bar(p));
    art.appendChild(legend(p));
    if (p.affected && p.affected.length) {
      var h = el('p', 'visually-hidden', S.affected);
      art.appendChild(h);
      art.appendChild(groupLines(p, s));
    }
    return art;
  }

  // ---- results ---------------------------------------------------------------------------

  function renderResults(s) {
    var box = els.results;
    stopPager();
    while (box.firstChild) box.removeChild(box.firstChild);
    if (!s.results) {
      box.hidden = true;
      els.proj.classList.remove('has-results');
      return;
    }
    var res = s.results;
    var n = res.proposals.length;
    box.className = 'results' + (n >= 5 ? ' count-many' : '') + (n >= 9 ? ' count-lots' : '');
    box.hidden = false;
    els.proj.classList.add('has-results');

    var scroller = el('section', 'result-scroll');
    scroller.setAttribute('aria-label', S.results_heading);
    scroller.tabIndex = 0; // a scrollable region must be reachable by keyboard
    scroller.style.position = 'relative';
    var list = el('div', 'result-list');
    var byId = {};
    res.proposals.forEach(function (p) {
      byId[p.id] = p;
      list.appendChild(card(p, s));
    });
    scroller.appendChild(list);
    var pager = el('p', 'proj-pager');
    pager.setAttribute('aria-hidden', 'true');
    var column = el('div', 'result-col');
    column.appendChild(scroller);
    column.appendChild(pager);
    box.appendChild(column);

    var rankBox = el('section', 'ranking-box');
    var rh = el('h2', null, S.ranking);
    rh.id = 'ranking-heading';
    rankBox.setAttribute('aria-labelledby', 'ranking-heading');
    rankBox.appendChild(rh);
    var ol = el('ol', 'ranking');
    (res.ranking || []).forEach(function (id) {
      var p = byId[id];
      if (!p) return;
      var li = el('li');
      li.appendChild(badge(p.category));
      li.appendChild(doc.createTextNode(titleOf(p)));
      ol.appendChild(li);
    });
    rankBox.appendChild(ol);
    box.appendChild(rankBox);

    ['wheel', 'touchstart', 'keydown', 'mousedown'].forEach(function (type) {
      scroller.addEventListener(type, function () {
        pausedUntil = Date.now() + USER_PAUSE_MS;
      }, { passive: true });
    });
    scroller.addEventListener('scroll', function () {
      showPage(scroller, pager);
    }, { passive: true });
    showPage(scroller, pager);
    setTimeout(function () {
      showPage(scroller, pager);
    }, 500);
    pagerTimer = setInterval(function () {
      turnPage(scroller, pager);
    }, PAGE_EVERY_MS);
  }

  function stopPager() {
    clearInterval(pagerTimer);
    pagerTimer = null;
  }

  function overflowing(scroller) {
    return scroller.scrollHeight > scroller.clientHeight + 4;
  }

  function turnPage(scroller) {
    if (Date.now() < pausedUntil || !overflowing(scroller)) return;
    var cards = scroller.querySelectorAll('.result');
    var bottom = scroller.scrollTop + scroller.clientHeight;
    var next = null;
    for (var i = 0; i < cards.length; i++) {
      if (cards[i].offsetTop + cards[i].offsetHeight > bottom + 2) {
        next = cards[i];
        break;
      }
    }
    scroller.scrollTop = next ? Math.max(0, next.offsetTop - 4) : 0;
  }

  // "Proposals 4–6 of 9" while not everything fits.
  function showPage(scroller, pager) {
    if (!overflowing(scroller)) {
      setText(pager, '');
      return;
    }
    var cards = scroller.querySelectorAll('.result');
    var top = scroller.scrollTop;
    var bottom = top + scroller.clientHeight;
    var first = 0;
    var last = 0;
    for (var i = 0; i < cards.length; i++) {
      var t = cards[i].offsetTop;
      var b = t + cards[i].offsetHeight;
      if (t >= top - 2 && b <= bottom + 2) {
        if (!first) first = i + 1;
        last = i + 1;
      }
    }
    if (!first) {
      setText(pager, '');
      return;
    }
    setText(pager, C.fmt(S.showing, { first: first, last: last, total: cards.length }));
  }

  // ---- the whole screen ------------------------------------------------------------------

  function render(s) {
    state = s;
    var m = s.meeting || {};
    setText(els.title, m.title || '');
    setText(els.url, m.join_url || '');
    setText(els.code, m.code || '');
    if (m.title) doc.title = m.title + ' \u2014 Covote';

    var rt = roundText(s);
    var roundChanged = els.round.textContent !== rt;
    setText(els.round, rt);
    setText(els.turnout, turnoutText(s));

    var key = s.results ? (s.round ? s.round.id : '') + '|' + JSON.stringify(s.results) : '';
    var resultsChanged = key !== resultsKey;
    var revealed = resultsChanged && !!s.results;
    if (resultsChanged) {
      resultsKey = key;
      renderResults(s);
    }
    if (painted) {
      if (revealed && s.round) announce(C.fmt(S.results_now, { n: s.round.number }));
      else if (roundChanged) announce(rt);
    }
    painted = true;
  }

  function onStatus(kind) {
    if (kind === 'open') {
      everOpen = true;
      failures = 0;
      setText(els.conn, '');
    } else if (kind === 'reconnecting') {
      failures += 1;
      setText(els.conn, S.conn_down);
      if (!everOpen && failures === 3) checkGone();
    } else if (kind === 'gone') {
      setText(els.conn, S.gone);
    }
  }

  // See phone.js: an unknown meeting's socket fails before it opens, so ask the API.
  function checkGone() {
    if (!window.fetch) return;
    fetch('/api/m/' + encodeURIComponent(state.meeting.code), { credentials: 'same-origin' })
      .then(function (res) {
        if (res.status === 404) {
          if (conn) conn.stop();
          setText(els.conn, S.gone);
        }
      })
      .catch(function () {});
  }

  window.addEventListener('resize', function () {
    var scroller = els.results.querySelector('.result-scroll');
    var pager = els.results.querySelector('.proj-pager');
    if (scroller && pager) showPage(scroller, pager);
  });

  render(state);
  conn = C.live(C.wsUrl('/ws/m/' + encodeURIComponent(state.meeting.code)), {
    onSnapshot: render,
    onStatus: onStatus
  });
})();
