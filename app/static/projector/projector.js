/*
 * The projector: paints the meeting from the snapshot embedded in the page, then from every
 * snapshot the WebSocket brings. Results (when revealed) are a card per proposal: title, the
 * category badge and its reason, what the category means for a keep or fund proposal, a stacked
 * WANT / NEUTRAL / DON'T WANT bar with a marker at half the room, and one line per affected
 * group; then the ranking. When the cards do not fit the screen they page by themselves.
 * All text comes from the translated #strings block; user data is set with textContent only.
 *
 * Two languages side by side: /p/CODE?lang=cy+en (or en+cy) paints every heading, badge,
 * reason and line in both, the first one first, each part marked with its lang attribute. The
 * page carries every language's strings (#strings-all); a meeting's own texts (titles, group
 * labels) use the meeting file's translations when it has them ("translations": {"cy": {...}}).
 * Screen reader announcements use the first language.
 */
(function () {
  'use strict';

  var C = window.Covote;
  var doc = document;
  if (!C || !C.live || !window.JSON) return;

  var state = C.readJSON('initial-state');
  if (!state) return;
  var ALL = C.readJSON('strings-all') || {};
  var stringsEl = doc.getElementById('strings');
  var pageLocale = (stringsEl && stringsEl.getAttribute('data-locale')) || 'en';
  if (!ALL[pageLocale]) ALL[pageLocale] = C.readJSON('strings') || {};
  var LANGS = chooseLangs();
  var BI = LANGS.length > 1;
  var S = ALL[LANGS[0]];

  // ?lang=cy+en -> ['cy', 'en']; one language (or none) -> the page's, which the server chose.
  function chooseLangs() {
    var m = /[?&]lang=([^&#]*)/.exec(window.location.search);
    var out = [];
    if (m) {
      var raw = m[1].replace(/\+/g, ' ');
      try {
        raw = decodeURIComponent(raw);
      } catch (e) {
        /* keep it as it is */
      }
      raw.toLowerCase().split(/[\s,+]+/).forEach(function (l) {
        if (ALL[l] && out.indexOf(l) < 0) out.push(l);
      });
    }
    return out.length > 1 ? out : [pageLocale];
  }

  var PAGE_EVERY_MS = 15000; // time to read a screenful of results from the back of the hall
  var USER_PAUSE_MS = 30000; // someone scrolled by hand: leave the screen alone for a while


  var els = {
    proj: doc.getElementById('proj'),
    title: doc.getElementById('proj-title'),
    round: doc.getElementById('proj-round'),
    turnout: doc.getElementById('proj-turnout'),
    keypad: doc.getElementById('proj-keypad'),
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

  // ---- languages -------------------------------------------------------------------------

  // A meeting's own text in language `lang` (from the meeting file's translations), else as is.
  function local(item, field, lang) {
    var tr = item && item.translations && item.translations[lang];
    var text = tr && tr[field];
    return typeof text === 'string' && text ? text : (item && item[field]) || '';
  }

  // What fn(strings, lang) gives in each language shown: [{lang, text}, ...].
  function inLangs(fn) {
    return LANGS.map(function (lang) {
      return { lang: lang, text: String(fn(ALL[lang] || S, lang)) };
    });
  }

  function tr(key, params) {
    return inLangs(function (T) {
      return C.fmt(T[key] || S[key] || key, params || {});
    });
  }

  function joined(parts) {
    return parts
      .map(function (p) {
        return p.text;
      })
      .join(' / ');
  }

  // Put the parts into `node`: plain text for one language, a span per language for two
  // (one, when both say the same: a title nobody translated is not shown twice).
  function fill(node, parts) {
    if (!node) return;
    var same = parts.every(function (p) {
      return p.text === parts[0].text;
    });
    if (same) parts = parts.slice(0, 1);
    var key = joined(parts);
    if (node.getAttribute('data-text') === key && node.firstChild) return;
    node.setAttribute('data-text', key);
    while (node.firstChild) node.removeChild(node.firstChild);
    if (!BI || parts.length === 1) {
      node.classList.remove('bi');
      node.appendChild(doc.createTextNode(parts[0].text));
      return;
    }
    node.classList.add('bi');
    parts.forEach(function (p, i) {
      var span = el('span', 'bi-part bi-' + (i + 1), p.text);
      span.setAttribute('lang', p.lang);
      node.appendChild(span);
    });
  }

  function biEl(tag, cls, parts) {
    var node = el(tag, cls);
    fill(node, parts);
    return node;
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

  // The round's own record of proposal `p` (it carries the meeting file's translations).
  function proposalOf(p) {
    var ps = (state && state.round && state.round.proposals) || [];
    for (var i = 0; i < ps.length; i++) if (ps[i].id === p.id) return ps[i];
    return p;
  }

  function titleOf(p) {
    var texts = proposalOf(p);
    return inLangs(function (T, lang) {
      return C.fmt(p.kind === 'fund' ? T.fund_title : T.keep_title, {
        title: local(texts, 'title', lang) || p.title
      });
    });
  }

  function badge(category) {
    var b = el('span', 'badge badge-' + String(category).toLowerCase());
    b.appendChild(el('span', 'b-icon', S['icon_' + category] || '')).setAttribute('aria-hidden', 'true');
    b.appendChild(biEl('span', 'b-text', tr('cat_' + category)));
    return b;
  }

  function roundText(s) {
    var r = s.round;
    if (!r) return tr('round_none');
    if (r.status === 'open') return tr('round_open', { n: r.number });
    if (s.results) return tr('round_results', { n: r.number });
    return tr('round_closed', { n: r.number });
  }

  // Keypads have no screen: the projector says which proposal a press counts for, or asks
  // keypad holders about themselves. Empty when neither applies.
  function keypadText(s) {
    var r = s.round;
    if (s.keypad_prompt && s.keypad_prompt.ask_segment) {
      var id = s.keypad_prompt.ask_segment;
      return inLangs(function (T, lang) {
        return C.fmt(T.keypad_ask || S.keypad_ask, { label: groupLabel(s, id, id, lang) });
      });
    }
    if (!r || r.status !== 'open' || r.keypad_step === null || r.keypad_step === undefined) return [];
    var p = r.proposals[r.keypad_step];
    if (r.view && r.view !== 'room_vote') return keypadItemText(r, p);
    var titles = titleOf(p);
    return inLangs(function (T, lang) {
      var title = titles.filter(function (t) { return t.lang === lang; })[0] || titles[0];
      return C.fmt(T.keypad_step || S.keypad_step,
        { i: r.keypad_step + 1, n: r.proposals.length, title: title.text });
    });
  }

  // Another kind's item: its title and the keys its scale takes ("1 Very poor, 2, ... 5").
  function keypadItemText(r, p) {
    var answers = (p && p.scale && p.scale.answers) || [];
    return inLangs(function (T, lang) {
      var keys = answers
        .filter(function (a) { return a.key !== null && a.key !== undefined; })
        .map(function (a) { return a.key === Number(a.label) ? String(a.key) : a.key + ' ' + label(T, a.label); })
        .join(T.list_sep || ', ');
      return C.fmt(T.keypad_item || S.keypad_item,
        { i: r.keypad_step + 1, n: r.proposals.length, title: local(p, 'title', lang), keys: keys });
    });
  }

  // An answer's label (a msgid) in the strings of one language; untranslated, as it is.
  function label(T, msgid) {
    return T['label:' + msgid] || S['label:' + msgid] || msgid;
  }

  function turnoutText(s) {
    var t = s.turnout || {};
    if (!s.round) return tr('joined', { present: t.present || 0 });
    // With the results, and if the facilitator chose it: how the ballots came in.
    if (s.results && s.show_channels && t.by_channel) {
      var c = t.by_channel;
      return tr('turnout_channels', {
        voted: t.voted || 0, present: t.present || 0,
        phone: c.phone || 0, remote: c.remote || 0, keypad: c.keypad || 0, paper: c.paper || 0
      });
    }
    return tr('turnout', { voted: t.voted || 0, present: t.present || 0 });
  }

  // ---- one proposal ----------------------------------------------------------------------

  // The label of affected group `id` in `lang` (meeting segments may carry translations).
  function groupLabel(s, id, fallback, lang) {
    var segs = (s.meeting && s.meeting.segments) || [];
    for (var i = 0; i < segs.length; i++) {
      if (segs[i].id === id) return local(segs[i], 'label', lang);
    }
    return fallback || id;
  }

  function reasonText(p, s) {
    var ratio = s.meeting && s.meeting.rule ? s.meeting.rule.ratio : 2;
    return inLangs(function (T, lang) {
      var labels = (p.groups || []).map(function (g, i) {
        return groupLabel(s, g, (p.group_labels || [])[i], lang);
      });
      return C.fmt(T['reason_' + p.reason] || p.reason, {
        ratio: ratio,
        groups: labels.join(T.list_sep || ', ')
      });
    });
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
    half.appendChild(biEl('span', null, tr('half')));
    wrap.appendChild(half);
    return wrap;
  }

  function legend(p) {
    var box = el('p', 'bar-legend');
    if (!p.V) {
      box.appendChild(biEl('span', null, tr('no_ballots')));
      return box;
    }
    [
      ['want', '\u2713', p.W],
      ['neutral', '\u2013', p.N],
      ['dont', '\u2717', p.D]
    ].forEach(function (part) {
      var item = el('span', 'legend-item');
      var key = el('span', 'key key-' + part[0]);
      key.setAttribute('aria-hidden', 'true');
      item.appendChild(key);
      item.appendChild(el('span', 'legend-icon', part[1])).setAttribute('aria-hidden', 'true');
      item.appendChild(biEl('span', 'legend-word', tr(part[0])));
      item.appendChild(el('span', 'legend-count', part[2]));
      box.appendChild(item);
    });
    box.appendChild(biEl('span', 'muted voted-on-it', tr('voted_on_it', { v: p.V })));
    return box;
  }

  function groupLines(p, s) {
    var m = s.meeting && s.meeting.rule ? s.meeting.rule.group_min : 5;
    var ul = el('ul', 'groups');
    (p.affected || []).forEach(function (a) {
      var li = el('li');
      li.appendChild(
        biEl(
          'span',
          'group-line',
          inLangs(function (T, lang) {
            var label = groupLabel(s, a.group, a.label, lang);
            var line = a.suppressed
              ? C.fmt(T.group_small, { label: label, m: m })
              : C.fmt(T.group_line, { label: label, w: a.W, v: a.V, d: a.D });
            if (!a.suppressed && a.protects) line += ' ' + T.group_protects;
            else if (!a.suppressed && a.objects) line += ' ' + T.group_objects;
            return line;
          })
        )
      );
      if (!a.suppressed && (a.protects || a.objects)) li.className = a.protects ? 'protects' : 'objects';
      ul.appendChild(li);
    });
    return ul;
  }

  function card(p, s) {
    var art = el('article', 'result cat-' + String(p.category).toLowerCase());
    art.setAttribute('data-proposal', p.id);
    art.setAttribute('data-category', p.category);
    art.appendChild(biEl('h3', null, titleOf(p)));
    var verdict = el('p', 'verdict');
    verdict.appendChild(badge(p.category));
    verdict.appendChild(biEl('span', 'reason', reasonText(p, s)));
    art.appendChild(verdict);
    // The meaning by kind and category, or by reason too where that changes it (explain.py).
    var meansKey = 'means_' + (p.kind === 'fund' ? 'fund' : 'keep') + '_' + p.category;
    if (S[meansKey + '_' + p.reason]) meansKey += '_' + p.reason;
    if (S[meansKey]) art.appendChild(biEl('p', 'meaning', tr(meansKey)));
    art.appendChild(bar(p));
    art.appendChild(legend(p));
    if (p.affected && p.affected.length) {
      art.appendChild(biEl('p', 'visually-hidden', tr('affected')));
      art.appendChild(groupLines(p, s));
    }
    return art;
  }

  // ---- results ---------------------------------------------------------------------------

  // Each activity kind's results are drawn by the renderer its views name (`round.view`,
  // app/voting/activity.py Views.projector); a kind without its own gets the distribution.
  var RENDERERS = { room_vote: renderRoomVote, distribution: renderDistribution };

  function renderResults(s) {
    var box = els.results;
    stopPager();
    while (box.firstChild) box.removeChild(box.firstChild);
    if (!s.results) {
      box.hidden = true;
      els.proj.classList.remove('has-results');
      return;
    }
    var view = (s.round && s.round.view) || 'room_vote';
    (RENDERERS[view] || renderDistribution)(s, box);
  }

  // One item's answers: a bar per answer, as long as its share of those who answered.
  function distributionCard(item, counted) {
    var art = el('article', 'result result-distribution');
    art.setAttribute('data-proposal', item.id);
    art.appendChild(biEl('h3', null, inLangs(function (T, lang) { return local(item, 'title', lang); })));
    var answered = (counted && counted.answered) || 0;
    var line = tr('answered', { n: answered });
    if (counted && counted.mean) line = tr('answered_mean', { n: answered, mean: counted.mean });
    art.appendChild(biEl('p', 'verdict', line));
    var labels = {};
    ((item.scale && item.scale.answers) || []).forEach(function (a) { labels[a.value] = a.label; });
    var ul = el('ul', 'answer-bars');
    var counts = (counted && counted.counts) || {};
    Object.keys(counts).forEach(function (value) {
      var n = counts[value] || 0;
      var li = el('li', 'answer-bar');
      li.setAttribute('data-answer', value);
      li.appendChild(biEl('span', 'answer-label', inLangs(function (T) {
        return labels[value] ? label(T, labels[value]) : value;
      })));
      var b = el('span', 'answer-track');
      b.setAttribute('aria-hidden', 'true');
      var fillEl = el('span', 'answer-fill');
      fillEl.style.width = (answered ? (n * 100) / answered : 0) + '%';
      b.appendChild(fillEl);
      li.appendChild(b);
      li.appendChild(el('span', 'answer-count', n));
      ul.appendChild(li);
    });
    art.appendChild(ul);
    return art;
  }

  function renderDistribution(s, box) {
    var res = s.results;
    var items = res.items || [];
    var byId = {};
    (res.answers || []).forEach(function (a) { byId[a.id] = a; });
    box.className = 'results results-distribution' + (items.length >= 5 ? ' count-many' : '');
    box.hidden = false;
    els.proj.classList.add('has-results');
    var scroller = el('section', 'result-scroll');
    scroller.setAttribute('aria-labelledby', 'results-heading');
    scroller.tabIndex = 0;
    var heading = biEl('h2', 'visually-hidden', tr('results_heading'));
    heading.id = 'results-heading';
    scroller.appendChild(heading);
    var list = el('div', 'result-list');
    items.forEach(function (item) { list.appendChild(distributionCard(item, byId[item.id])); });
    scroller.appendChild(list);
    var pager = el('p', 'proj-pager');
    pager.setAttribute('aria-hidden', 'true');
    var column = el('div', 'result-col');
    column.appendChild(scroller);
    column.appendChild(pager);
    box.appendChild(column);
    pageThrough(scroller, pager);
  }

  function renderRoomVote(s, box) {
    var res = s.results;
    var n = res.proposals.length;
    box.className = 'results' + (n >= 5 ? ' count-many' : '') + (n >= 9 ? ' count-lots' : '');
    box.hidden = false;
    els.proj.classList.add('has-results');

    var scroller = el('section', 'result-scroll');
    scroller.setAttribute('aria-labelledby', 'results-heading');
    scroller.tabIndex = 0; // a scrollable region must be reachable by keyboard
    var resultsHeading = biEl('h2', 'visually-hidden', tr('results_heading'));
    resultsHeading.id = 'results-heading';
    scroller.appendChild(resultsHeading);
    scroller.style.position = 'relative';
    var list = el('div', 'result-list');
    var byId = {};
    res.proposals.forEach(function (p) {
      byId[p.id] = p;
      list.appendChild(card(p, s));
    });
    scroller.appendChild(list);
    if (C.renderBudget && (res.funded || res.cuts)) {
      var budgetBox = el('div', 'budget-box');
      C.renderBudget(budgetBox, res, S);
      scroller.insertBefore(budgetBox, list);
    }
    var pager = el('p', 'proj-pager');
    pager.setAttribute('aria-hidden', 'true');
    var column = el('div', 'result-col');
    column.appendChild(scroller);
    column.appendChild(pager);
    box.appendChild(column);

    var rankBox = el('section', 'ranking-box');
    rankBox.tabIndex = 0; // it scrolls when the ranking is long: reachable by keyboard too
    var rh = biEl('h2', null, tr('ranking'));
    rh.id = 'ranking-heading';
    rankBox.setAttribute('aria-labelledby', 'ranking-heading');
    rankBox.appendChild(rh);
    var ol = el('ol', 'ranking');
    (res.ranking || []).forEach(function (id) {
      var p = byId[id];
      if (!p) return;
      var li = el('li');
      li.setAttribute('data-proposal', p.id);
      li.appendChild(badge(p.category));
      li.appendChild(biEl('span', 'rank-title', titleOf(p)));
      ol.appendChild(li);
    });
    rankBox.appendChild(ol);
    box.appendChild(rankBox);
    pageThrough(scroller, pager);
  }

  // Turn the results' pages by themselves, unless someone scrolls by hand.
  function pageThrough(scroller, pager) {
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
    fill(
      els.title,
      inLangs(function (T, lang) {
        return local(m, 'title', lang);
      })
    );
    setText(els.url, m.join_url || '');
    setText(els.code, m.code || '');
    if (m.title) {
      doc.title = local(m, 'title', LANGS[0]) + ' \u2014 ' + (S.title_suffix || '') + ' \u2014 Covote';
    }

    var rt = roundText(s);
    var roundChanged = els.round.getAttribute('data-text') !== joined(rt);
    fill(els.round, rt);
    fill(els.turnout, turnoutText(s));
    var kp = keypadText(s);
    if (els.keypad) {
      els.keypad.hidden = kp.length === 0;
      if (kp.length) fill(els.keypad, kp);
    }

    var key = s.results ? (s.round ? s.round.id : '') + '|' + JSON.stringify(s.results) : '';
    var resultsChanged = key !== resultsKey;
    var revealed = resultsChanged && !!s.results;
    if (resultsChanged) {
      resultsKey = key;
      renderResults(s);
    }
    if (painted) {
      if (revealed && s.round) announce(C.fmt(S.results_now, { n: s.round.number }));
      else if (roundChanged) announce(rt[0].text);
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

  if (BI) {
    doc.documentElement.setAttribute('lang', LANGS[0]);
    els.proj.classList.add('bilingual');
  }
  // The texts the server rendered in one language: repaint them (in both, when bilingual).
  Array.prototype.forEach.call(doc.querySelectorAll('[data-s]'), function (node) {
    fill(node, tr(node.getAttribute('data-s')));
  });
  els.round.setAttribute('data-text', els.round.textContent);
  render(state);
  conn = C.live(C.wsUrl('/ws/m/' + encodeURIComponent(state.meeting.code)), {
    onSnapshot: render,
    onStatus: onStatus
  });
})();
