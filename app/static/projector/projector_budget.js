/*
 * The projector's budget panel (issue 6): what a budget round funded and what a savings target
 * cut, drawn from the revealed results of a snapshot (rounds.results_view).
 *
 *   Covote.renderBudget(container, results, strings)
 *     container  an element; its children are replaced (nothing is drawn, and the container is
 *                hidden, when the results have neither `funded` nor `cuts`)
 *     results    snapshot.results: `funded`, `greedy`, `share`, `budget`, `spent`, `left`,
 *                `voters`, `funding` [{id, cost, supporters, by, paid: [{amount, voters}]}];
 *                `target`, `cuts`, `accepted`, `savings` {id: amount}, `total`, `shortfall`;
 *                `currency`, `amounts` {id: {cost, saving}} and `proposals` [{id, title, W}]
 *     strings    translated texts by key (see DEFAULTS; missing keys fall back to English)
 *   Covote.budgetMoney(amount, currency) -> "£32,500", "12.50 GBP", "£33.33" (amounts in the
 *                record are ints, decimals "12.5" or exact fractions "p/q"; shown to the penny)
 *
 * Budget: the pot as a bar that fills with the funded proposals in selection order (numbered,
 * the numbers matching the list under it), each with its cost, its WANTs and who paid; the
 * per-voter share and, in one plain sentence, how equal shares chose; beside it what "most
 * WANTs first" would have funded. Savings: the accepted cuts as a bar against the target, each
 * with the running total, and the shortfall.
 * Everything the bars show is also said in words (the bars are aria-hidden). Plain ES2017, no
 * dependencies; user data is set with textContent only.
 */
(function (global) {
  'use strict';

  var Covote = global.Covote || (global.Covote = {});
  var doc = global.document;

  var DEFAULTS = {
    budget_heading: 'Budget: %(pot)s shared by equal shares',
    budget_share: 'Each of the %(n)s voters had %(share)s to spend on what they WANT',
    budget_how:
      'The pot was split equally between the voters. Proposals were funded one at a time, the one ' +
      'that cost its supporters least each first, and each supporter paid an equal part of its cost.',
    budget_mes_heading: 'Funded, in the order chosen',
    budget_greedy_heading: 'Most WANTs first would have funded',
    budget_item: '%(title)s \u2014 %(cost)s \u00b7 %(wants)s WANT',
    budget_paid: '%(voters)s paid %(amount)s each',
    budget_paid_nothing: '%(voters)s had nothing left to pay',
    budget_by_greedy: 'paid from what was left, most WANTs first',
    budget_spent: 'Spent %(spent)s of %(pot)s \u00b7 %(left)s left',
    budget_greedy_spent: 'Would spend %(spent)s of %(pot)s',
    budget_funded_none: 'Nothing could be funded',
    budget_greedy_none: 'Nothing',
    savings_heading: 'Savings target: %(target)s',
    savings_cut_item: '%(title)s \u2014 saves %(saving)s \u00b7 total so far %(total)s',
    savings_cuts_none: 'The room accepted no cuts',
    savings_shortfall: 'Shortfall: %(shortfall)s \u2014 the cuts the room accepted reach %(total)s of %(target)s',
    savings_target_met: 'Target reached: %(total)s of %(target)s',
    savings_accepted_spare: 'Also accepted, not needed for the target: %(list)s',
    list_sep: ', '
  };

  var STYLE = [
    '.budget-panel { margin: .8em 0 0; }',
    '.budget-panel h2 { font-size: 1.4em; margin: 0 0 .2em; }',
    '.budget-panel h3 { font-size: 1.15em; margin: .4em 0 .2em; }',
    '.budget-panel p { margin: .2em 0; }',
    '.budget-cols { display: flex; flex-wrap: wrap; gap: 0 2em; }',
    '.budget-col { flex: 1 1 18em; min-width: 0; }',
    '.budget-col.budget-greedy { flex: 1 1 12em; border-left: .15em solid #000; padding-left: 1em; }',
    '.budget-bar { display: flex; height: 2.2em; border: .12em solid #000; background: #fff; margin: .3em 0; }',
    '.budget-seg { display: flex; align-items: center; justify-content: center; overflow: hidden;',
    '  min-width: 0; font-weight: 900; color: #fff; background: #0a4d8c; }',
    '.budget-seg:nth-child(even) { background: repeating-linear-gradient(45deg, #083a66 0 .35em, #0a4d8c .35em .7em); }',
    '.budget-seg + .budget-seg { border-left: .15em solid #fff; }',
    '.budget-seg.budget-alt { background: #555; }',
    '.budget-seg.budget-alt:nth-child(even) { background: repeating-linear-gradient(135deg, #333 0 .35em, #555 .35em .7em); }',
    '.budget-seg.budget-cut { background: #9b2c00; }',
    '.budget-seg.budget-cut:nth-child(even) { background: repeating-linear-gradient(45deg, #7a2200 0 .35em, #9b2c00 .35em .7em); }',
    '.budget-list { margin: .2em 0; padding-left: 1.6em; }',
    '.budget-list li { margin: .15em 0; }',
    '.budget-paid { display: block; font-size: .85em; }',
    '.budget-short { font-weight: 800; }'
  ].join('\n');

  function fmt(text, params) {
    if (Covote.fmt) return Covote.fmt(text, params);
    return String(text).replace(/%\((\w+)\)s/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
    });
  }

  function el(tag, cls, text) {
    var node = doc.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // An amount of the record as a Number (display only: the record itself stays exact).
  function toNumber(x) {
    if (x === null || x === undefined || x === '') return null;
    if (typeof x === 'number') return x;
    var s = String(x);
    var slash = s.indexOf('/');
    if (slash > 0) return Number(s.slice(0, slash)) / Number(s.slice(slash + 1));
    return Number(s);
  }

  function grouped(n, decimals) {
    var fixed = Math.abs(n).toFixed(decimals);
    var parts = fixed.split('.');
    var whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return (n < 0 ? '-' : '') + whole + (parts[1] ? '.' + parts[1] : '');
  }

  function money(x, currency) {
    var n = toNumber(x);
    if (n === null || isNaN(n)) return '';
    var text = grouped(n, Number.isInteger(n) ? 0 : 2);
    var c = currency || '';
    if (c.length > 1 && c.toUpperCase() !== c.toLowerCase()) {
      return text + ' ' + c; // a code or a word: "12.50 GBP", "300 zł"
    }
    return c + text; // a symbol: "£300,000"
  }
  Covote.budgetMoney = money;

  function percent(part, whole) {
    var p = toNumber(part);
    var w = toNumber(whole);
    if (!w || !p) return 0;
    return Math.min(100, Math.round((p * 100 * 10000) / w) / 10000);
  }

  function injectStyle() {
    if (doc.getElementById('covote-budget-style')) return;
    var style = el('style', null, STYLE);
    style.id = 'covote-budget-style';
    (doc.head || doc.documentElement).appendChild(style);
  }

  function bar(items, whole, cls) {
    var b = el('div', 'budget-bar');
    b.setAttribute('aria-hidden', 'true'); // the numbered list under it says the same in words
    items.forEach(function (item, i) {
      var width = percent(item, whole);
      if (!width) return;
      var seg = el('div', 'budget-seg' + (cls ? ' ' + cls : ''), i + 1);
      seg.style.width = width + '%';
      b.appendChild(seg);
    });
    return b;
  }

  function renderFunding(panel, res, S, titleOf, wantsOf) {
    var cur = res.currency;
    var heading = el('h2', null, fmt(S.budget_heading, { pot: money(res.budget, cur) }));
    heading.id = 'budget-heading';
    panel.setAttribute('aria-labelledby', heading.id);
    panel.appendChild(heading);
    panel.appendChild(
      el('p', 'budget-share', fmt(S.budget_share, { n: res.voters, share: money(res.share, cur) }))
    );
    // The equal-shares step in one plain sentence: why the list below is in the order it is.
    panel.appendChild(el('p', 'budget-how', S.budget_how));
    var cols = el('div', 'budget-cols');

    var mesCol = el('section', 'budget-col budget-mes');
    mesCol.appendChild(el('h3', null, S.budget_mes_heading));
    var funding = res.funding || [];
    mesCol.appendChild(
      bar(
        funding.map(function (f) {
          return f.cost;
        }),
        res.budget
      )
    );
    mesCol.appendChild(
      el(
        'p',
        'budget-total',
        fmt(S.budget_spent, {
          spent: money(res.spent, cur),
          pot: money(res.budget, cur),
          left: money(res.left, cur)
        })
      )
    );
    if (funding.length) {
      var ol = el('ol', 'budget-list');
      funding.forEach(function (f) {
        var li = el('li');
        li.appendChild(
          doc.createTextNode(
            fmt(S.budget_item, { title: titleOf(f.id), cost: money(f.cost, cur), wants: f.supporters })
          )
        );
        var paid;
        if (f.by === 'greedy') {
          paid = S.budget_by_greedy;
        } else {
          paid = (f.paid || [])
            .map(function (g) {
              return toNumber(g.amount)
                ? fmt(S.budget_paid, { voters: g.voters, amount: money(g.amount, cur) })
                : fmt(S.budget_paid_nothing, { voters: g.voters });
            })
            .join(S.list_sep);
        }
        li.appendChild(el('span', 'budget-paid', paid));
        ol.appendChild(li);
      });
      mesCol.appendChild(ol);
    } else {
      mesCol.appendChild(el('p', null, S.budget_funded_none));
    }
    cols.appendChild(mesCol);

    var greedyCol = el('section', 'budget-col budget-greedy');
    greedyCol.appendChild(el('h3', null, S.budget_greedy_heading));
    var greedy = res.greedy || [];
    var costOf = function (id) {
      var a = res.amounts && res.amounts[id];
      return a ? a.cost : null;
    };
    greedyCol.appendChild(bar(greedy.map(costOf), res.budget, 'budget-alt'));
    if (greedy.length) {
      var gl = el('ol', 'budget-list');
      var spent = 0;
      greedy.forEach(function (id) {
        spent += toNumber(costOf(id)) || 0;
        gl.appendChild(
          el(
            'li',
            null,
            fmt(S.budget_item, { title: titleOf(id), cost: money(costOf(id), cur), wants: wantsOf(id) })
          )
        );
      });
      greedyCol.appendChild(gl);
      greedyCol.appendChild(
        el('p', null, fmt(S.budget_greedy_spent, { spent: money(spent, cur), pot: money(res.budget, cur) }))
      );
    } else {
      greedyCol.appendChild(el('p', null, S.budget_greedy_none));
    }
    cols.appendChild(greedyCol);
    panel.appendChild(cols);
  }

  function renderSavings(panel, res, S, titleOf) {
    var cur = res.currency;
    var box = el('section', 'budget-savings');
    var h = el('h3', null, fmt(S.savings_heading, { target: money(res.target, cur) }));
    h.id = 'savings-heading';
    box.setAttribute('aria-labelledby', h.id);
    box.appendChild(h);
    var cuts = res.cuts || [];
    var savings = res.savings || {};
    box.appendChild(
      bar(
        cuts.map(function (id) {
          return savings[id];
        }),
        res.target,
        'budget-cut'
      )
    );
    if (cuts.length) {
      var ol = el('ol', 'budget-list');
      var total = 0;
      cuts.forEach(function (id) {
        total += toNumber(savings[id]) || 0;
        ol.appendChild(
          el(
            'li',
            null,
            fmt(S.savings_cut_item, {
              title: titleOf(id),
              saving: money(savings[id], cur),
              total: money(total, cur)
            })
          )
        );
      });
      box.appendChild(ol);
    } else {
      box.appendChild(el('p', null, S.savings_cuts_none));
    }
    var words = {
      total: money(res.total, cur),
      target: money(res.target, cur),
      shortfall: money(res.shortfall, cur)
    };
    if (toNumber(res.shortfall)) box.appendChild(el('p', 'budget-short', fmt(S.savings_shortfall, words)));
    else box.appendChild(el('p', 'budget-short', fmt(S.savings_target_met, words)));
    var spare = (res.accepted || []).filter(function (id) {
      return cuts.indexOf(id) < 0;
    });
    if (spare.length) {
      box.appendChild(
        el('p', null, fmt(S.savings_accepted_spare, { list: spare.map(titleOf).join(S.list_sep) }))
      );
    }
    panel.appendChild(box);
  }

  Covote.renderBudget = function (container, results, strings) {
    var S = {};
    var k;
    for (k in DEFAULTS) S[k] = DEFAULTS[k];
    for (k in strings || {}) if (strings[k]) S[k] = strings[k];
    while (container.firstChild) container.removeChild(container.firstChild);
    var res = results || {};
    var hasBudget = Array.isArray(res.funded);
    var hasSavings = Array.isArray(res.cuts);
    container.hidden = !hasBudget && !hasSavings;
    if (container.hidden) return;
    injectStyle();
    var byId = {};
    (res.proposals || []).forEach(function (p) {
      byId[p.id] = p;
    });
    var titleOf = function (id) {
      return byId[id] && byId[id].title ? byId[id].title : id;
    };
    var wantsOf = function (id) {
      return byId[id] ? byId[id].W : '';
    };
    var panel = el('section', 'budget-panel');
    if (hasBudget) renderFunding(panel, res, S, titleOf, wantsOf);
    if (hasSavings) renderSavings(panel, res, S, titleOf);
    if (!hasBudget) {
      var first = panel.querySelector('h3');
      if (first) panel.setAttribute('aria-labelledby', first.id);
    }
    container.appendChild(panel);
  };
})(window);
