/*
 * The closing countdown (templates/_countdown.html) on the phone, the projector and the Run
 * page. It listens to the snapshots live.js hands on ("covote:snapshot" on the document): while
 * the open round has `closes_in` (seconds left, counted by the server when the snapshot was
 * made: this device's clock is not trusted) it shows "Voting closes in 25 s", updated every
 * second. Screen readers are told when it starts, at 10 s and when voting closes, not every
 * second. On the Run page (data-reload) the page reloads once the round has closed, so the
 * next step comes first.
 */
(function () {
  'use strict';
  var doc = document;
  var box = doc.getElementById('countdown');
  if (!box) return;
  var text = doc.getElementById('countdown-text');
  var live = doc.getElementById('countdown-live');
  var SAY_AT = 10; // seconds left when screen readers are told again
  var deadline = null; // performance.now() when it ends
  var key = null; // the round id and closes_at being counted down
  var timer = null;
  var said = null;

  function fmt(s, n) {
    return String(s).replace('%(s)s', String(n));
  }
  // The bilingual projector (?lang=cy+en, with every language's strings in #strings-all):
  // the visible countdown in each language asked for, the first one first.
  var shownIn = (function () {
    var all = doc.getElementById('strings-all');
    var m = /[?&]lang=([^&#]*)/.exec(window.location.search);
    if (!all || !m) return null;
    var strings, asked;
    try {
      strings = JSON.parse(all.textContent);
      asked = decodeURIComponent(m[1].replace(/\+/g, ' '));
    } catch (e) {
      return null;
    }
    var texts = [];
    asked.toLowerCase().split(/[\s,+]+/).forEach(function (l) {
      var t = strings[l] && strings[l].countdown;
      if (t && texts.indexOf(t) < 0) texts.push(t);
    });
    return texts.length > 1 ? texts : null;
  })();
  function visible(n) {
    if (!shownIn) return fmt(box.getAttribute('data-text'), n);
    return shownIn.map(function (t) { return fmt(t, n); }).join(' · ');
  }
  function say(message) {
    if (!live || message === said) return;
    said = message;
    live.textContent = message;
  }
  function tick() {
    if (deadline === null) return;
    var left = Math.max(0, Math.ceil((deadline - performance.now()) / 1000));
    text.textContent = left > 0 ? visible(left) : box.getAttribute('data-closed');
    if (left === SAY_AT) say(fmt(box.getAttribute('data-said'), left));
    if (left === 0) {
      say(box.getAttribute('data-closed'));
      clearInterval(timer);
      timer = null;
    }
  }
  function start(id, seconds) {
    deadline = performance.now() + seconds * 1000;
    box.hidden = false;
    say(fmt(box.getAttribute('data-said'), seconds));
    tick();
    clearInterval(timer);
    timer = setInterval(tick, 250); // the text changes once a second; 4 looks keep it on time
  }
  function stop() {
    deadline = null;
    key = null;
    clearInterval(timer);
    timer = null;
    box.hidden = true;
    text.textContent = '';
  }

  var initial = box.getAttribute('data-closes-in');
  var wasCounting = initial !== '' && initial !== null;
  if (wasCounting) start(null, Number(initial));

  doc.addEventListener('covote:snapshot', function (ev) {
    var r = ev.detail && ev.detail.round;
    if (r && r.status === 'open' && typeof r.closes_in === 'number') {
      var now = r.id + '@' + r.closes_at;
      if (now !== key) {
        key = now;
        start(r.id, r.closes_in);
      }
      wasCounting = true;
      return;
    }
    if (deadline !== null || box.hidden === false) {
      if (r && r.status !== 'open') say(box.getAttribute('data-closed'));
      stop();
    }
    if (wasCounting && box.getAttribute('data-reload') && (!r || r.status !== 'open')) {
      wasCounting = false;
      window.location.reload();
    }
  });
})();
