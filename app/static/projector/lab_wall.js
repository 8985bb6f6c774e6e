/*
 * The projector's idea wall (/p/CODE/wall, app/web/lab.py): after every snapshot of the
 * meeting's socket (an approval, a merge, a keypad step: each sends one), fetch the wall again
 * (?part=1) and swap it in. One fetch at a time; a snapshot during one asks for one more.
 * The socket is a preview (?preview=1): the wall is not counted as a screen in turnout.
 */
(function () {
  'use strict';
  var wall = document.getElementById('lab-wall');
  if (!wall || !window.Covote) return;
  var code = wall.getAttribute('data-code');
  var lang = new URLSearchParams(location.search).get('lang');
  var url = location.pathname + '?part=1' + (lang ? '&lang=' + encodeURIComponent(lang) : '');
  var busy = false;
  var again = false;

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
        done();
      })
      .catch(done);
  }

  Covote.live('/ws/m/' + encodeURIComponent(code) + '?preview=1', { onSnapshot: refresh });
})();
