/*
 * The projector's idea wall (/p/CODE/wall, app/web/lab.py): after every snapshot of the
 * meeting's socket (an approval, a merge, a keypad step: each sends one), fetch the wall again
 * (?part=1) and swap it in. One fetch at a time; a snapshot during one asks for one more.
 * The socket is a preview (?preview=1): the wall is not counted as a screen in turnout.
 * When the opinion groups shown are older than the ratings (the server works them out at most
 * twice a second: app/web/lab_live.py), the part says when to ask again (data-retry-ms): one
 * more fetch then, so the last rating always reaches the screen.
 */
(function () {
  'use strict';
  var wall = document.getElementById('lab-wall');
  if (!wall || !window.Covote) return;
  var code = wall.getAttribute('data-code');
  // The page's own query (?lang=cy, ?groups=0) with part=1.
  var query = new URLSearchParams(location.search);
  query.set('part', '1');
  var url = location.pathname + '?' + query.toString();
  var busy = false;
  var again = false;
  var retry = null;

  function later() {
    var stale = wall.querySelector('[data-retry-ms]');
    if (!stale || retry !== null) return;
    var ms = parseInt(stale.getAttribute('data-retry-ms'), 10);
    retry = setTimeout(function () {
      retry = null;
      refresh();
    }, isNaN(ms) ? 1000 : Math.min(Math.max(ms, 50), 5000));
  }

  function done() {
    busy = false;
    if (again) {
      again = false;
      refresh();
    }
  }

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(url, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null) wall.innerHTML = html;
        later();
        done();
      })
      .catch(done);
  }

  later();
  Covote.live('/ws/m/' + encodeURIComponent(code) + '?preview=1', { onSnapshot: refresh });
})();
