/*
 * Covote.live: the WebSocket client shared by the phone, the projector and the console.
 * Plain ES2017, no dependencies; works on old Android Chrome and Safari 12.
 *
 *   var conn = Covote.live('/ws/m/' + code, {   // a path (made ws:// or wss:// for this page's
 *                                               // host) or a full ws:// / wss:// URL
 *     onSnapshot: function (state) {},       // the meeting's full state (rounds.room_state + seq)
 *     onMessage:  function (msg) {},         // every other frame: "you", "ack", "error"
 *     onStatus:   function (status, info) {} // see below
 *   });
 *   conn.send(obj)    -> true if obj went out on an open socket, false if not (nothing is queued:
 *                        the caller keeps what must survive, e.g. a pending ballot, and resends
 *                        it when the status becomes "open")
 *   conn.isOpen()     -> true while the socket is open
 *   conn.reconnect()  -> drop the socket and connect again now
 *   conn.stop()       -> close for good; no more callbacks except onStatus("stopped")
 *
 * Status values passed to onStatus(status, info):
 *   "connecting"    info {attempt}        a socket is being opened
 *   "open"          info {}               connected; "hello" has been sent
 *   "reconnecting"  info {delay, code}    the socket closed (code) or went silent; next try in
 *                                         `delay` ms
 *   "gone"          info {code, reason}   close 4404: the meeting does not exist; no reconnect
 *   "stopped"       info {}               after conn.stop()
 *
 * What it does for you (../shared/realtime.md B.3 items 6-10):
 *   - on open sends {"type":"hello","last_seq": newest seq seen so far, or null};
 *   - sends {"type":"ping"} every 15 s; if no frame at all (pong or other) arrives within 10 s
 *     the socket counts as dead: it is dropped and a new one opened (browsers do not notice a
 *     dead connection by themselves);
 *   - reconnects after any close except 4404 (1001 going away, 1006 abnormal, 1012 server
 *     restart, 4008 too slow, ...) with jittered exponential backoff: 0.5 s doubling to a 10 s
 *     cap, each wait drawn between half and all of it so a hall of phones does not come back
 *     in one burst; the backoff resets once a snapshot arrives;
 *   - drops a snapshot whose seq is lower than the last one on the same connection (the first
 *     snapshot after each connect is always taken: it is a full resync);
 *   - reconnects at once when the device comes back online or the page is shown again;
 *   - drops the socket when the device says it went offline (a socket can stay "open" for
 *     a long time after the network is gone; what is sent on it meanwhile is lost) and waits
 *     for the network to come back, reporting "reconnecting".
 *
 * Helpers:
 *   Covote.wsUrl(path)        "ws://host/path" or "wss://host/path" for this page's origin
 *   Covote.readJSON(id)       parse <script type="application/json" id="..."> (or null)
 *   Covote.fmt(text, params)  replace %(name)s in a translated string
 */
(function (global) {
  'use strict';

  var Covote = global.Covote || (global.Covote = {});

  var PING_EVERY_MS = 15000;
  var PONG_WITHIN_MS = 10000;
  var BACKOFF_FIRST_MS = 500;
  var BACKOFF_CAP_MS = 10000;
  var CLOSE_GONE = 4404;
  var CLOSE_DEAD = 4000; // our own code when we abandon a silent socket

  Covote.wsUrl = function (path) {
    var scheme = global.location.protocol === 'https:' ? 'wss://' : 'ws://';
    return scheme + global.location.host + path;
  };

  Covote.readJSON = function (id) {
    var el = global.document.getElementById(id);
    if (!el) return null;
    try {
      return JSON.parse(el.textContent);
    } catch (e) {
      return null;
    }
  };

  Covote.fmt = function (text, params) {
    return String(text).replace(/%\((\w+)\)s/g, function (whole, name) {
      return params && Object.prototype.hasOwnProperty.call(params, name)
        ? String(params[name])
        : whole;
    });
  };

  Covote.live = function (url, handlers) {
    handlers = handlers || {};
    // Old browsers (Safari 12, Chrome < 125) need an absolute ws:// URL.
    if (url.charAt(0) === '/') url = Covote.wsUrl(url);
    var ws = null;
    var attempt = 0;
    var retryTimer = null;
    var pingTimer = null;
    var pongTimer = null;
    var stopped = false;
    var connSeq = null; // newest snapshot seq on the current connection
    var last = null; // newest snapshot on the current connection
    var lastSeq = null; // newest snapshot seq on any connection (sent in hello)

    function call(name, a, b) {
      var f = handlers[name];
      if (typeof f !== 'function') return;
      try {
        f(a, b);
      } catch (e) {
        if (global.console) global.console.error(e);
      }
    }

    function status(name, info) {
      call('onStatus', name, info || {});
    }

    function clearTimers() {
      clearInterval(pingTimer);
      clearTimeout(pongTimer);
      clearTimeout(retryTimer);
      pingTimer = pongTimer = retryTimer = null;
    }

    function rawSend(obj) {
      if (!ws || ws.readyState !== 1) return false;
      try {
        ws.send(JSON.stringify(obj));
        return true;
      } catch (e) {
        return false;
      }
    }

    function ping() {
      if (!rawSend({ type: 'ping' })) return;
      if (pongTimer === null) pongTimer = setTimeout(dead, PONG_WITHIN_MS);
    }

    function alive() {
      clearTimeout(pongTimer);
      pongTimer = null;
    }

    // Forget a socket: later events from it are ignored.
    function abandon(code) {
      var old = ws;
      ws = null;
      clearTimers();
      if (!old) return;
      old.onopen = old.onmessage = old.onclose = old.onerror = null;
      try {
        old.close(code || 1000);
      } catch (e) {
        /* already closing */
      }
    }

    function dead() {
      abandon(CLOSE_DEAD);
      retry(1006);
    }

    function retry(code) {
      if (stopped) return;
      var cap = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * Math.pow(2, attempt));
      var delay = Math.round(cap / 2 + Math.random() * cap / 2);
      attempt += 1;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(connect, delay);
      status('reconnecting', { delay: delay, code: code });
    }

    function onFrame(data) {
      var msg;
      try {
        msg = JSON.parse(data);
      } catch (e) {
        return;
      }
      if (!msg || typeof msg !== 'object') return;
      if (msg.type === 'pong') return;
      // Between snapshots, screens that show turnout get only the new turnout: apply it to
      // the last snapshot of this connection and hand on the whole state as usual.
      if (msg.type === 'turnout') {
        if (!last || connSeq === null || msg.seq < connSeq) return;
        msg = Object.assign({}, last, { seq: msg.seq, turnout: msg.turnout });
        msg.type = 'snapshot';
      }
      if (msg.type === 'snapshot') {
        var seq = typeof msg.seq === 'number' ? msg.seq : null;
        if (seq !== null) {
          if (connSeq !== null && seq < connSeq) return; // stale
          connSeq = seq;
          if (lastSeq === null || seq > lastSeq) lastSeq = seq;
        }
        attempt = 0;
        last = msg;
        call('onSnapshot', msg);
        // For page parts that follow the room by themselves (shared/countdown.js).
        if (typeof global.CustomEvent === 'function') {
          global.document.dispatchEvent(new global.CustomEvent('covote:snapshot', { detail: msg }));
        }
        return;
      }
      call('onMessage', msg);
    }

    function connect() {
      if (stopped) return;
      abandon(1000);
      connSeq = null;
      last = null;
      status('connecting', { attempt: attempt });
      var sock;
      try {
        sock = new WebSocket(url);
      } catch (e) {
        retry(1006);
        return;
      }
      ws = sock;
      sock.onopen = function () {
        if (sock !== ws) return;
        rawSend({ type: 'hello', last_seq: lastSeq });
        pingTimer = setInterval(ping, PING_EVERY_MS);
        status('open', {});
      };
      sock.onmessage = function (ev) {
        if (sock !== ws) return;
        alive();
        onFrame(ev.data);
      };
      sock.onclose = function (ev) {
        if (sock !== ws) return;
        ws = null;
        clearTimers();
        if (ev.code === CLOSE_GONE) {
          stopped = true;
          status('gone', { code: ev.code, reason: ev.reason || '' });
          return;
        }
        retry(ev.code);
      };
      sock.onerror = function () {
        /* a close event always follows */
      };
    }

    // Back online or shown again: check a quiet socket now, or skip the rest of a backoff wait.
    function wake() {
      if (stopped) return;
      if (ws && ws.readyState === 1) {
        ping();
      } else if (!ws || ws.readyState > 1) {
        connect();
      }
    }

    // Offline: the socket cannot deliver anything now, even if it still looks open.
    function lost() {
      if (stopped) return;
      abandon(CLOSE_DEAD);
      retry(1006);
    }

    global.addEventListener('online', wake);
    global.addEventListener('offline', lost);
    global.document.addEventListener('visibilitychange', function () {
      if (!global.document.hidden) wake();
    });

    connect();

    return {
      send: function (obj) {
        return rawSend(obj);
      },
      isOpen: function () {
        return !!ws && ws.readyState === 1;
      },
      reconnect: function () {
        if (stopped) return;
        attempt = 0;
        connect();
      },
      stop: function () {
        if (stopped) return;
        stopped = true;
        abandon(1000);
        status('stopped', {});
      }
    };
  };
})(window);
