/*
 * The projector: paints the meeting from the snapshot embedded in the page, then from every
 * snapshot the WebSocket brings.
 *
 * While a round is open: the turnout, large, and a tile per proposal (title, Keep or Fund, its
 * saving or cost) under a line saying what WANT means; the tiles' type is scaled (`fit`) until
 * all of them fit the screen, whatever their number.
 *
 * Results (when revealed) come as pages, one on the screen at a time: a budget round's pot
 * first; then the overview, every proposal in ranked order with its outcome and a small bar,
 * scaled to fit one screen; then a card per proposal (title, the category badge and its reason,
 * what the category means for a keep or fund proposal, a stacked WANT / NEUTRAL / DON'T WANT
 * bar with a marker at half the room, one line per affected group), as many to a page as the
 * screen holds, measured. Under them the pager line and a legend of the outcomes. The pages
 * turn every PAGE_EVERY_MS; ←/→ (Page Up/Down) turn them by hand, Home goes to the first, Space
 * pauses the turning, F or the button toggles full screen.
 * All text comes from the translated #strings block; user data is set with textContent only.
 *
 * Two languages side by side: /p/CODE?lang=cy+en (or en+cy) paints every heading, badge,
 * reason and line in both, the first one first, each part marked with its lang attribute. The
 * page carries every language's strings (#strings-all); a meeting's own texts (titles, group
 * labels) use the meeting file's translations when it has them ("translations": {"cy": {...}}).
 * Screen reader announcements use the first language.
 *
 * The presenter view (/console/ID/present) drives the screen through the snapshot's `screen`
 * (app/live/screen.py; `applyScreen` below): auto (the course above), page N (paused or
 * turning on from there), one proposal's card large, the ranking (paged when it does not fit),
 * the join code large, or blank. Each new `screen` (its version) is applied once: the keys
 * above keep working locally until the next. #proj carries data-page, data-pages, data-mode,
 * data-paused and data-revealed for the presenter's preview to read. ?preview=1: the presenter's preview
 * (inert, silent, not counted as a screen in the room).
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
  // The presenter view's preview of this screen: not a screen in the room, nothing to focus
  // or announce (the presenter view says in words what is on the screen).
  var PREVIEW = /[?&]preview=1(&|#|$)/.test(window.location.search);
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
  var USER_PAUSE_MS = 30000; // someone turned a page by hand: leave the screen alone for a while
  // The ranges `fit` scales type within; above 1 a few proposals get larger. The floor is
  // projector.css's (never under .6rem, about 10 px), which keeps 40 legible on a 4:3 screen.
  var BOARD_FIT = [0.2, 1.6];
  var OVERVIEW_FIT = [0.2, 1.5];
  var CARD_FIT = [0.6, 1];
  var FOCUS_FIT = [0.6, 2.2]; // one proposal on the whole screen: up to twice a card's type
  // The outcomes in the rule's order (explain.live_strings `categories`).
  var CATEGORIES = String(S.categories || 'SUPPORTED,PROTECTED,CONTESTED,REJECTED').split(',');


  var els = {
    proj: doc.getElementById('proj'),
    title: doc.getElementById('proj-title'),
    round: doc.getElementById('proj-round'),
    turnout: doc.getElementById('proj-turnout'),
    keypad: doc.getElementById('proj-keypad'),
    results: doc.getElementById('results'),
    board: doc.getElementById('board'),
    fullscreen: doc.getElementById('proj-fullscreen'),
    url: doc.getElementById('join-url'),
    code: doc.getElementById('join-code'),
    conn: doc.getElementById('proj-conn'),
    announce: doc.getElementById('announce'),
    focus: doc.getElementById('focus'),
    blank: doc.getElementById('proj-blank')
  };

  var resultsKey = null;
  var boardKey = null;
  // The results' pages: the fixed ones (budget, overview) and the cards' pages, the one shown,
  // and whether Space has paused the turning (kept while the same results are redrawn).
  var pages = { list: [], fixed: [], cards: [], index: 0, paused: false, roundId: null,
    area: null, pager: null, legend: null };
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
    if (!els.announce || PREVIEW) return;
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
    // A survey online from a given time (app/voting/online.py), before it opens.
    if (r.status === 'scheduled') return tr('round_scheduled', { n: r.number });
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
  // A charter round's wording says first which clause it is, or amends ("Amendment to clause
  // 2: ..."), as the board does: keypads answer an amendment on its own, apart from its clause.
  function keypadItemText(r, p) {
    var answers = (p && p.scale && p.scale.answers) || [];
    var place = p ? charterPlaces(r)[p.id] : null;
    return inLangs(function (T, lang) {
      var keys = answers
        .filter(function (a) { return a.key !== null && a.key !== undefined; })
        .map(function (a) { return a.key === Number(a.label) ? String(a.key) : a.key + ' ' + label(T, a.label); })
        .join(T.list_sep || ', ');
      var title = sentence(local(p, 'title', lang));
      if (place) {
        var which = place.amendment ? 'charter_amendment_to' : 'charter_clause';
        title = C.fmt(T[which] || S[which], { n: place.n }) + ': ' + title;
      }
      return C.fmt(T.keypad_item || S.keypad_item,
        { i: r.keypad_step + 1, n: r.proposals.length, title: title, keys: keys });
    });
  }

  // A title as a sentence: its own full stop, question or exclamation mark, else one added
  // (a charter's clause ends with one, a survey's question with "?": never "month.. Press").
  function sentence(text) {
    text = String(text || '').replace(/\s+$/, '');
    return /[.?!\u2026]$/.test(text) ? text : text + '.';
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

  // A charter round's wordings by item id: the number of the clause they belong to in the
  // round (numbered as phones number the screens) and whether it is an amendment to it.
  // Every item of a charter round carries its clause as its group (charter_kind.item_view).
  function charterPlaces(r) {
    var places = {};
    if (!r || r.kind !== 'charter') return places;
    var numbers = {};
    var next = 0;
    (r.proposals || []).forEach(function (p) {
      var clause = (p.group && p.group.id) || p.id;
      if (!Object.prototype.hasOwnProperty.call(numbers, clause)) numbers[clause] = ++next;
      places[p.id] = { n: numbers[clause], amendment: clause !== p.id };
    });
    return places;
  }

  function placeLine(place) {
    return tr(place.amendment ? 'charter_amendment_to' : 'charter_clause', { n: place.n });
  }

  // ---- while a round is open: what is being voted on ---------------------------------------

  // Every proposal of the round as a tile (its title, Keep or Fund, its saving or cost), with
  // what WANT means for each kind present. The tiles' type is scaled until all of them fit.
  function renderBoard(s) {
    var box = els.board;
    var r = s.round;
    var items = (r && !s.results && r.status === 'open' && r.proposals) || [];
    var key = items.length ? JSON.stringify([r.id, items, LANGS]) : '';
    if (key === boardKey) return;
    boardKey = key;
    while (box.firstChild) box.removeChild(box.firstChild);
    box.hidden = !items.length;
    els.proj.classList.toggle('is-board', !!items.length);
    if (!items.length) return;
    var roomVote = !r.view || r.view === 'room_vote';
    var kinds = [];
    if (roomVote) {
      items.forEach(function (p) {
        if (kinds.indexOf(p.kind) < 0) kinds.push(p.kind);
      });
      kinds.sort().reverse(); // keep before fund, the order set-up lists them
      var hint = el('p', 'board-hint');
      kinds.forEach(function (k) {
        if (S['want_means_' + k]) hint.appendChild(biEl('span', 'board-means', tr('want_means_' + k)));
      });
      box.appendChild(hint);
    }
    var cur = (s.meeting && s.meeting.currency) || '';
    var places = charterPlaces(r);
    var ul = el('ul', 'board-list');
    ul.setAttribute('data-count', String(items.length));
    items.forEach(function (p) {
      var li = el('li', 'board-item' + (roomVote ? ' kind-' + p.kind : ''));
      li.setAttribute('data-proposal', p.id);
      if (places[p.id]) {
        // "Clause 2" / "Amendment to clause 2": an amendment is answered against its original.
        li.classList.add(places[p.id].amendment ? 'is-amendment' : 'is-clause');
        li.appendChild(biEl('span', 'board-money board-place', placeLine(places[p.id])));
      }
      // The title once per language (once in all when nobody translated it); Keep or Fund and
      // the amount on a smaller line of their own, so two languages do not double the title.
      li.appendChild(biEl('span', 'board-title', inLangs(function (T, lang) {
        return local(p, 'title', lang);
      })));
      if (r.kind === 'charter_review') {
        // A review: the commitment's party and the party's own report, read before rating.
        if (p.group) li.appendChild(biEl('span', 'board-party', inLangs(function (T, lang) {
          return local(p.group, 'title', lang);
        })));
        li.appendChild(biEl('span', 'board-report', inLangs(function (T, lang) {
          var report = local(p, 'description', lang);
          return report ? C.fmt(T.review_report || S.review_report, { report: report }) : (T.review_no_report || S.review_no_report);
        })));
      }
      if (roomVote) {
        var amount = p.kind === 'fund' ? p.cost : p.saving;
        var money = amount !== null && amount !== undefined && C.budgetMoney ? C.budgetMoney(amount, cur) : '';
        li.appendChild(biEl('span', 'board-money', inLangs(function (T) {
          var kind = (p.kind === 'fund' ? T.kind_fund : T.kind_keep) || p.kind;
          if (!money) return kind;
          return kind + ' \u00b7 ' + C.fmt(p.kind === 'fund' ? T.board_costs : T.board_saves, { amount: money });
        })));
      }
      ul.appendChild(li);
    });
    box.appendChild(ul);
    fitBoard();
  }

  function fitBoard() {
    var ul = els.board.querySelector('.board-list');
    if (ul && !els.board.hidden) fit(els.board, ul, BOARD_FIT);
  }

  // The largest scale in [lo, hi] (the `--fit` custom property of `content`, which the CSS
  // multiplies its type by) at which `outer` needs no scrolling; `lo` when none does.
  // `holds(outer)`, when given, says whether it fits instead.
  function fit(outer, content, range, holds) {
    var lo = range[0];
    var hi = range[1];
    var fits = function (scale) {
      content.style.setProperty('--fit', String(scale));
      if (holds) return holds(outer);
      return outer.scrollHeight <= outer.clientHeight + 1 && outer.scrollWidth <= outer.clientWidth + 1;
    };
    if (fits(hi)) return hi;
    for (var i = 0; i < 9; i++) {
      var mid = (lo + hi) / 2;
      if (fits(mid)) lo = mid;
      else hi = mid;
    }
    fits(lo);
    return lo;
  }

  // ---- results ---------------------------------------------------------------------------

  // Each activity kind's results are drawn by the renderer its views name (`round.view`,
  // app/voting/activity.py Views.projector); a kind without its own gets the distribution.
  var RENDERERS = {
    room_vote: renderRoomVote,
    distribution: renderDistribution,
    charts: renderCharts
  };

  function renderResults(s) {
    var box = els.results;
    stopPager();
    focusKey = null; // the focus (a card, the ranking) is drawn again from the new results
    while (box.firstChild) box.removeChild(box.firstChild);
    if (!s.results) {
      box.hidden = true;
      els.proj.classList.remove('has-results');
      pages.list = [];
      return;
    }
    var view = (s.round && s.round.view) || 'room_vote';
    (RENDERERS[view] || renderDistribution)(s, box);
  }

  // One item's answers: a bar per answer, as long as its share of those who answered.
  // A charter round's wordings: their category's name (a "label:" string, charter_kind's
  // answer_labels) and icon, as app/rules/charter_words.py has them; text, not colour only.
  var CHARTER_ICONS = { ADOPTED: '\u2713', ADOPTED_WITH_RESERVATIONS: '\u25c6', SENT_BACK: '\u21a9' };

  // `place` (a charter round's): the wording's clause and whether it amends it; `chosen`: true
  // for the wording its clause adopted, false for one it did not, undefined when not decided.
  function distributionCard(item, counted, decision, place, chosen) {
    var art = el('article', 'result result-distribution');
    art.setAttribute('data-proposal', item.id);
    if (place) art.appendChild(biEl('p', 'charter-place', placeLine(place)));
    art.appendChild(biEl('h3', null, inLangs(function (T, lang) { return local(item, 'title', lang); })));
    var answered = (counted && counted.answered) || 0;
    var line = tr('answered', { n: answered });
    if (counted && counted.mean) line = tr('answered_mean', { n: answered, mean: counted.mean });
    art.appendChild(biEl('p', 'verdict', line));
    if (decision) {
      art.setAttribute('data-decision', decision);
      art.appendChild(biEl('p', 'charter-decision', inLangs(function (T) {
        return (CHARTER_ICONS[decision] || '') + ' ' + label(T, decision.replace(/_/g, ' '));
      })));
    }
    if (chosen !== undefined) {
      art.setAttribute('data-chosen', chosen ? 'yes' : 'no');
      art.appendChild(biEl('p', 'charter-chosen', tr(chosen ? 'charter_adopted' : 'charter_not_chosen')));
    }
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
    var decided = {}; // a charter round's: each wording's category (charter_files.results_json)
    var chosen = {}; // and whether its clause adopted it (only for a clause that adopted one)
    ((res.charter && res.charter.clauses) || []).forEach(function (c) {
      c.wordings.forEach(function (w) {
        decided[w.item] = w.category;
        if (c.adopted) chosen[w.item] = w.item === c.adopted;
      });
    });
    var places = charterPlaces(s.round);
    var cards = items.map(function (item) {
      return distributionCard(item, byId[item.id], decided[item.id], places[item.id], chosen[item.id]);
    });
    showPages(s, box, 'results-distribution', [], cards, null);
  }

  // A kind whose results are charts drawn on the server (a survey's: GET /p/CODE/charts, in
  // the first language): a card per chart, paged like any results. Until they arrive, or if
  // they cannot be had, the answers' distribution.
  var chartsFor = null; // the state whose charts are being fetched or shown
  function renderCharts(s, box) {
    renderDistribution(s, box);
    chartsFor = s;
    var url = '/p/' + encodeURIComponent(s.meeting.code) + '/charts?lang=' +
      encodeURIComponent(LANGS[0]) + '&round=' + (s.round ? s.round.id : '');
    fetch(url, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html || chartsFor !== s) return; // gone, or a newer state draws its own
        var tpl = doc.createElement('template');
        tpl.innerHTML = html;
        var cards = Array.prototype.slice.call(tpl.content.querySelectorAll('article'));
        if (!cards.length) return;
        stopPager();
        while (box.firstChild) box.removeChild(box.firstChild);
        showPages(s, box, 'results-charts', [], cards, null, true);
      })
      .catch(function () { /* the distribution stays */ });
  }

  function renderRoomVote(s, box) {
    var res = s.results;
    var byId = {};
    res.proposals.forEach(function (p) {
      byId[p.id] = p;
    });
    var fixed = [];
    if (C.renderBudget && (res.funded || res.cuts)) {
      // A budget round's headline is what the pot paid for: its page comes first.
      var budgetBox = el('div', 'budget-box');
      C.renderBudget(budgetBox, res, S);
      fixed.push(page('page-budget', budgetBox));
    }
    fixed.push(overviewPage(res, byId));
    var cards = res.proposals.map(function (p) {
      return card(p, s);
    });
    showPages(s, box, '', fixed, cards, outcomeLegend());
  }

  // The overview: every proposal in ranked order with its outcome and a small bar, and how
  // many got each outcome; the type is scaled until it all fits one screen.
  // `from`, `to`: only these ranks (0-based, `to` excluded), for the ranking's pages.
  function overviewPage(res, byId, from, to) {
    var ranked = res.ranking || [];
    var part = from !== undefined;
    from = from || 0;
    to = to === undefined ? ranked.length : to;
    var section = el('section', 'ranking-box');
    var rh = biEl('h2', null, tr('ranking'));
    var headingId = 'ranking-heading' + (part ? '-' + from : '');
    rh.id = headingId;
    section.setAttribute('aria-labelledby', headingId);
    section.appendChild(rh);
    var counts = el('p', 'outcome-counts');
    CATEGORIES.forEach(function (c) {
      var n = res.proposals.filter(function (p) { return p.category === c; }).length;
      if (!n) return;
      var item = el('span', 'outcome-count');
      item.setAttribute('data-category', c);
      item.appendChild(badge(c));
      item.appendChild(el('span', 'outcome-n', n));
      counts.appendChild(item);
    });
    section.appendChild(counts);
    var ol = el('ol', 'ranking');
    ranked.forEach(function (id, i) {
      var p = byId[id];
      if (!p || i < from || i >= to) return;
      var li = el('li');
      li.setAttribute('data-proposal', p.id);
      li.setAttribute('data-category', p.category);
      li.appendChild(el('span', 'rank-no', i + 1)).setAttribute('aria-hidden', 'true');
      li.appendChild(biEl('span', 'rank-title', titleOf(p)));
      li.appendChild(badge(p.category));
      var mini = miniBar(p);
      li.appendChild(mini);
      ol.appendChild(li);
    });
    section.appendChild(ol);
    return page('page-overview', section, ol);
  }

  // WANT / NEUTRAL / DON'T WANT as one thin bar (the card on a later page says it in words).
  function miniBar(p) {
    var b = el('span', 'mini-bar');
    b.setAttribute('aria-hidden', 'true');
    var V = p.V || 0;
    [['want', p.W], ['neutral', p.N], ['dont', p.D]].forEach(function (part) {
      if (!V || !part[1]) return;
      var seg = el('span', 'seg seg-' + part[0]);
      seg.style.width = (part[1] * 100) / V + '%';
      b.appendChild(seg);
    });
    return b;
  }

  // One row under the results: each outcome with what it means, in the rule's order.
  function outcomeLegend() {
    var row = el('p', 'outcome-legend');
    CATEGORIES.forEach(function (c) {
      var item = el('span', 'legend-entry');
      item.setAttribute('data-category', c);
      item.appendChild(el('span', 'b-icon', S['icon_' + c] || '')).setAttribute('aria-hidden', 'true');
      item.appendChild(biEl('span', 'legend-text', inLangs(function (T) {
        return (T['cat_' + c] || c) + ': ' + (T['legend_' + c] || '');
      })));
      row.appendChild(item);
    });
    return row;
  }

  function page(cls, content, fitted) {
    var node = el('div', 'result-page ' + cls);
    node.tabIndex = 0; // a page that still scrolls (the smallest type did not fit) needs the keyboard
    node.appendChild(content);
    return { node: node, fitted: fitted || null, label: null };
  }

  // The results as pages: the fixed ones (budget, overview), then the cards, as many to a page
  // as the screen holds (measured, so it holds for any screen and any number of proposals).
  // One page shows at a time; ←/→ turn them, Space pauses the turning by itself.
  // `uncounted`: the cards are not proposals (a survey's charts): the pager says only the page.
  function showPages(s, box, cls, fixed, cards, legendNode, uncounted) {
    box.className = 'results' + (cls ? ' ' + cls : '');
    box.hidden = false;
    els.proj.classList.add('has-results');
    var area = el('section', 'result-pages');
    area.setAttribute('aria-labelledby', 'results-heading');
    var heading = biEl('h2', 'visually-hidden', tr('results_heading'));
    heading.id = 'results-heading';
    area.appendChild(heading);
    var pagerLine = el('p', 'proj-pager');
    box.appendChild(area);
    box.appendChild(pagerLine);
    if (legendNode) box.appendChild(legendNode);
    pages.area = area;
    pages.pager = pagerLine;
    pages.legend = legendNode;
    pages.fixed = fixed;
    pages.cards = cards;
    pages.uncounted = !!uncounted;
    layoutPages();
    var roundId = s.round ? s.round.id : null;
    if (roundId !== pages.roundId) pages.index = 0; // a new round starts at its first page
    pages.roundId = roundId;
    showPage(Math.min(pages.index, pages.list.length - 1));
    pagerTimer = setInterval(function () {
      if (pages.paused || Date.now() < pausedUntil || pages.list.length < 2) return;
      showPage((pages.index + 1) % pages.list.length);
    }, PAGE_EVERY_MS);
  }

  // (Re)build the card pages for the screen as it is now: after drawing and on resize.
  function layoutPages() {
    var area = pages.area;
    if (!area) return;
    Array.prototype.slice.call(area.querySelectorAll('.result-page')).forEach(function (n) {
      n.parentNode.removeChild(n);
    });
    pages.list = pages.fixed.slice();
    pages.list.forEach(function (pg) {
      area.appendChild(pg.node);
    });
    // The page box has a height only on a big screen (projector.css sets --paged there);
    // anywhere else the page scrolls as one, so every card goes on one page.
    var paged = getComputedStyle(area).getPropertyValue('--paged').trim() === '1';
    // The pager line as long as it will be (two lines in two languages): its room is not the
    // pages' to use.
    pages.pager.hidden = false;
    fill(pages.pager, pagerText(99, 99, [99, 99]));
    var current = null;
    var first = 0;
    if (paged && pages.cards.length) cardScale(area);
    var newPage = function () {
      var list = el('div', 'result-list');
      current = page('page-details', list);
      current.list = list;
      pages.list.push(current);
      area.appendChild(current.node);
      only(current.node);
    };
    pages.cards.forEach(function (c, i) {
      if (!current) newPage();
      current.list.appendChild(c);
      if (paged && current.list.children.length > 1 && overflows(current.node)) {
        current.list.removeChild(c);
        current.label = [first + 1, i];
        first = i;
        newPage();
        current.list.appendChild(c);
      }
    });
    if (current) current.label = [first + 1, pages.cards.length];
    pages.list.forEach(function (pg) {
      if (!pg.fitted) return;
      only(pg.node);
      fit(pg.node, pg.fitted, OVERVIEW_FIT);
    });
    only(null);
  }

  // The cards' type (--fit on the pages' box, which the card lists inherit): the largest in
  // CARD_FIT at which the tallest card takes at most half a page, so a page holds two rows of
  // them; two languages at once need it, one rarely does.
  function cardScale(area) {
    var list = el('div', 'result-list');
    var probe = page('page-details', list);
    pages.list.push(probe);
    area.appendChild(probe.node);
    only(probe.node);
    pages.cards.forEach(function (c) {
      list.appendChild(c);
    });
    var rows = pages.cards.length > 1 ? 2 : 1;
    fit(probe.node, area, CARD_FIT, function (node) {
      var gap = parseFloat(getComputedStyle(list).rowGap) || 0;
      var tallest = 0;
      pages.cards.forEach(function (c) {
        tallest = Math.max(tallest, c.offsetHeight);
      });
      return tallest * rows + gap * (rows - 1) <= node.clientHeight + 1;
    });
    pages.cards.forEach(function (c) {
      list.removeChild(c);
    });
    area.removeChild(probe.node);
    pages.list.pop();
  }

  function overflows(node) {
    return node.scrollHeight > node.clientHeight + 1;
  }

  // Show one page (none: null) and hide the others.
  function only(node) {
    pages.list.forEach(function (pg) {
      pg.node.hidden = pg.node !== node;
    });
  }

  function showPage(i) {
    if (!pages.list.length) return;
    pages.index = (i + pages.list.length) % pages.list.length;
    var pg = pages.list[pages.index];
    only(pg.node);
    pg.node.scrollTop = 0;
    fill(pages.pager, pagerText(pages.index + 1, pages.list.length, pg.label));
    pages.pager.classList.toggle('is-paused', pages.paused);
    pages.pager.hidden = pages.list.length < 2;
    markScreen();
  }

  // "Page 2 of 5 · Proposals 4–6 of 12 · ← → ..." in each language shown.
  function pagerText(i, n, label) {
    var total = pages.cards.length;
    return inLangs(function (T) {
      var line = [];
      if (n > 1) line.push(C.fmt(T.page_of || S.page_of, { i: i, n: n }));
      if (label && n > 1 && !pages.uncounted) {
        line.push(C.fmt(T.showing || S.showing, { first: label[0], last: label[1], total: total }));
      }
      if (n > 1) line.push(pages.paused ? T.paused || S.paused : T.keys_hint || S.keys_hint);
      return line.join(' \u00b7 ');
    });
  }

  function stopPager() {
    clearInterval(pagerTimer);
    pagerTimer = null;
  }

  // ---- keyboard and full screen ----------------------------------------------------------

  function turn(delta) {
    if (shownMode === 'ranking' && focusPages.list.length > 1) {
      showFocusPage(focusPages.index + delta); // the presenter's ranking, when it takes pages
      return true;
    }
    if (pages.list.length < 2) return false;
    pausedUntil = Date.now() + USER_PAUSE_MS; // someone is presenting: the timer waits
    showPage(pages.index + delta);
    return true;
  }

  function togglePause() {
    if (pages.list.length < 2) return false;
    pages.paused = !pages.paused;
    pausedUntil = 0;
    showPage(pages.index);
    return true;
  }

  // ---- the presenter's screen (app/live/screen.py) ----------------------------------------

  var screen = { mode: 'auto', page: 0, proposal: null, paused: false, version: null };
  var shownMode = 'auto'; // what the screen shows now (a results mode falls back to auto)
  var revealedNow = false; // results are revealed (whatever the screen shows of them)
  var focusKey = null;
  var focusTimer = null;
  var focusPages = { list: [], index: 0, pager: null };

  // The result of proposal `id` in the revealed results, or null.
  function resultOf(s, id) {
    var ps = (s.results && s.results.proposals) || [];
    for (var i = 0; i < ps.length; i++) if (ps[i].id === id) return ps[i];
    return null;
  }

  // Apply the snapshot's `screen`: each new version once (it overrides the local keys), and
  // whatever it shows on every render. `resultsNew`: the results were (re)drawn just now.
  function applyScreen(s, resultsNew) {
    var sc = s.screen || screen;
    var isNew = sc.version !== screen.version;
    screen = sc;
    var revealed = !!s.results && pages.list.length > 0;
    revealedNow = revealed;
    var roomVote = revealed && (!s.round || !s.round.view || s.round.view === 'room_vote');
    var mode = sc.mode;
    // Results-related modes only once results are revealed; until then the usual screen.
    if ((mode === 'page' || mode === 'ranking') && !revealed) mode = 'auto';
    if (mode === 'proposal' && !(roomVote && resultOf(s, sc.proposal))) mode = 'auto';
    if (mode === 'ranking' && !roomVote) mode = 'auto';
    shownMode = mode;
    if (revealed && (isNew || resultsNew)) {
      if (sc.mode === 'page') {
        pages.paused = !!sc.paused;
        pausedUntil = 0;
        showPage(Math.min(sc.page, pages.list.length - 1));
      } else if (sc.mode === 'auto' && isNew) {
        pages.paused = false;
        pausedUntil = 0;
        showPage(pages.index);
      }
    }
    var blank = mode === 'blank';
    els.proj.hidden = blank;
    if (els.blank) {
      els.blank.hidden = !blank;
      els.blank.setAttribute('aria-label', joined(tr('blanked')));
    }
    doc.body.classList.toggle('is-blank', blank);
    els.proj.classList.toggle('screen-join', mode === 'join');
    var focused = mode === 'proposal' || mode === 'ranking';
    els.proj.classList.toggle('screen-focus', focused);
    renderFocus(s, focused ? mode : null, resultsNew || isNew);
    markScreen();
  }

  // The proposal's card or the ranking, large, in #focus (instead of the results' pages).
  function renderFocus(s, mode, redraw) {
    var box = els.focus;
    if (!box) return;
    var key = mode ? mode + '|' + (mode === 'proposal' ? screen.proposal : '') + '|' + resultsKey : null;
    if (key === focusKey && !redraw) return;
    focusKey = key;
    clearInterval(focusTimer);
    focusTimer = null;
    while (box.firstChild) box.removeChild(box.firstChild);
    focusPages = { list: [], index: 0, pager: null };
    box.hidden = !mode;
    if (els.results && s.results) els.results.hidden = !!mode;
    if (!mode) return;
    if (mode === 'proposal') {
      var heading = biEl('h2', 'visually-hidden', tr('results_heading'));
      box.appendChild(heading);
      var one = el('div', 'focus-card');
      one.appendChild(card(resultOf(s, screen.proposal), s));
      box.appendChild(one);
      fit(box, one, FOCUS_FIT);
      return;
    }
    rankingPages(s, box);
  }

  // The whole ranking: on one page if it fits (type scaled down as far as the overview's),
  // else on as many pages as it takes, turning every PAGE_EVERY_MS.
  function rankingPages(s, box) {
    var res = s.results;
    var byId = {};
    res.proposals.forEach(function (p) { byId[p.id] = p; });
    var ids = res.ranking || [];
    // The pager line first, as long as it will be: its room is not the pages' to use.
    var pager = el('p', 'proj-pager');
    fill(pager, tr('page_of', { i: 99, n: 99 }));
    box.appendChild(pager);
    var add = function (from, to) {
      var pg = overviewPage(res, byId, from, to);
      box.insertBefore(pg.node, pager);
      fit(pg.node, pg.fitted, OVERVIEW_FIT);
      return pg;
    };
    var from = 0;
    while (from < ids.length) {
      focusPages.list.forEach(function (other) { other.node.hidden = true; });
      var pg = add(from, ids.length);
      var room = ids.length - from;
      if (overflows(pg.node)) {
        // Keep the rows that fit whole; the rest go on to the next page.
        var items = pg.fitted.children;
        var bottom = pg.node.getBoundingClientRect().bottom;
        room = 0;
        for (var i = 0; i < items.length; i++) {
          if (items[i].getBoundingClientRect().bottom > bottom + 1) break;
          room = i + 1;
        }
        room = Math.max(room, 1);
        box.removeChild(pg.node);
        pg = add(from, from + room);
      }
      focusPages.list.push(pg);
      from += room;
    }
    if (focusPages.list.length > 1) focusPages.pager = pager;
    else box.removeChild(pager);
    showFocusPage(0);
    if (focusPages.list.length > 1) {
      focusTimer = setInterval(function () {
        showFocusPage(focusPages.index + 1);
      }, PAGE_EVERY_MS);
    }
  }

  function showFocusPage(i) {
    var n = focusPages.list.length;
    if (!n) return;
    focusPages.index = (i + n) % n;
    focusPages.list.forEach(function (pg, j) {
      pg.node.hidden = j !== focusPages.index;
    });
    if (focusPages.pager) fill(focusPages.pager, tr('page_of', { i: focusPages.index + 1, n: n }));
    markScreen();
  }

  // What the presenter's preview reads: the mode shown, the page and how many, paused or not.
  function markScreen() {
    var p = els.proj;
    var focused = shownMode === 'ranking' && focusPages.list.length;
    var list = focused ? focusPages : pages;
    var n = focused ? focusPages.list.length : pages.list.length;
    p.setAttribute('data-mode', shownMode);
    p.setAttribute('data-page', String(n ? list.index + 1 : 0));
    p.setAttribute('data-pages', String(n));
    p.setAttribute('data-paused', pages.paused ? 'true' : 'false');
    p.setAttribute('data-revealed', revealedNow ? 'true' : 'false');
    p.setAttribute('data-proposal', shownMode === 'proposal' ? screen.proposal || '' : '');
  }

  function fullscreenOn() {
    return !!(doc.fullscreenElement || doc.webkitFullscreenElement);
  }

  function toggleFullscreen() {
    var root = doc.documentElement;
    var done;
    try {
      if (fullscreenOn()) done = (doc.exitFullscreen || doc.webkitExitFullscreen).call(doc);
      else done = (root.requestFullscreen || root.webkitRequestFullscreen).call(root);
    } catch (e) {
      return; // the browser refused (not allowed here): the page still works as it is
    }
    if (done && done.catch) done.catch(function () {});
  }

  function paintFullscreenButton() {
    if (!els.fullscreen) return;
    var on = fullscreenOn();
    fill(els.fullscreen, tr(on ? 'fullscreen_exit' : 'fullscreen'));
    els.fullscreen.setAttribute('aria-pressed', on ? 'true' : 'false');
  }

  // ←/→ (and Page Up/Down) turn the results' pages, Home goes back to the first, Space pauses
  // the turning by itself, F toggles full screen. A key meant for a button or a field is left
  // to it.
  function onKey(e) {
    if (e.altKey || e.ctrlKey || e.metaKey || e.defaultPrevented) return;
    var tag = (e.target && e.target.tagName) || '';
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag)) return;
    var handled = false;
    if (e.key === 'ArrowRight' || e.key === 'PageDown') handled = turn(1);
    else if (e.key === 'ArrowLeft' || e.key === 'PageUp') handled = turn(-1);
    else if (e.key === 'Home') handled = turn(shownMode === 'ranking' ? -focusPages.index : -pages.index);
    else if (e.key === ' ' || e.key === 'Spacebar') handled = tag !== 'BUTTON' && togglePause();
    else if (e.key === 'f' || e.key === 'F') {
      toggleFullscreen();
      handled = true;
    }
    if (handled) e.preventDefault();
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
    renderBoard(s);
    applyScreen(s, resultsChanged);
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

  // A new size: the cards go onto pages again and the tiles are scaled again (debounced: a
  // window being dragged sends many).
  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      fitBoard();
      if (!pages.area || !pages.list.length) return;
      layoutPages();
      showPage(Math.min(pages.index, pages.list.length - 1));
      if (shownMode === 'proposal' || shownMode === 'ranking') renderFocus(state, shownMode, true);
    }, 150);
  });
  doc.addEventListener('keydown', onKey);
  if (els.fullscreen && !PREVIEW) {
    var canFullscreen = !!(doc.fullscreenEnabled || doc.webkitFullscreenEnabled);
    els.fullscreen.hidden = !canFullscreen;
    els.fullscreen.addEventListener('click', toggleFullscreen);
    ['fullscreenchange', 'webkitfullscreenchange'].forEach(function (type) {
      doc.addEventListener(type, function () {
        paintFullscreenButton();
        // The screen changed size: fit and page again once it has.
        window.dispatchEvent(new Event('resize'));
      });
    });
    paintFullscreenButton();
  }

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
  if (PREVIEW) doc.body.inert = true; // nothing in the preview takes focus or a click
  var wsPath = '/ws/m/' + encodeURIComponent(state.meeting.code) + (PREVIEW ? '?preview=1' : '');
  conn = C.live(C.wsUrl(wsPath), {
    onSnapshot: render,
    onStatus: onStatus
  });
})();
