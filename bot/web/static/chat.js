/* Lên Tiếng web chat: plain script, no framework, no third party.
   Keeps only the session id, the event counter and nothing else, in sessionStorage. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var texts = data.texts;
  var lang = data.lang;
  var log = document.getElementById("log");
  var statusLine = document.getElementById("status");
  var form = document.getElementById("compose");
  var input = document.getElementById("text");
  var store = window.sessionStorage;
  var sid = store.getItem("c.s");
  var seq = parseInt(store.getItem("c.q") || "0", 10);
  var last = 0;
  var exiting = false;
  var polling = null;
  var refused = 0;      /* 401s in a row: the session is dropped only after two */
  var insertAt = null;  /* while the first screen is put back in place of the pre-rendered one */
  var EMERGENCY = { "113": 1, "114": 1, "115": 1, "111": 1 };
  /* Simple mode: one question a screen, picture buttons, audio first. Remembered for this
     tab only (sessionStorage, cleared by a quick exit), never in localStorage. */
  var sprite = data.sprite;
  var simple = !!data.simple || store.getItem("c.m") === "1";
  var turn = false;    /* she did something: the next message starts a new screen */
  var tapped = false;  /* a first tap happened: the browser lets the page play audio */
  var MARK = /^[\u2190-\u2bff\ud800-\udfff\ufe0f\u200d\s]+/;
  var CODE_RE = /(\d{4}[ -]?){3}\d{4}/;

  function setStatus(key) {
    showStatus(key ? texts[key] || "" : "");
  }

  function showStatus(text) {
    statusLine.className = "status";
    if (!text) { statusLine.hidden = true; statusLine.textContent = ""; return; }
    statusLine.textContent = text;
    statusLine.hidden = false;
  }

  function api(method, path, body, keepalive) {
    var headers = { "Accept": "application/json" };
    if (sid) headers["X-Session"] = sid;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, {
      method: method, headers: headers, credentials: "omit", cache: "no-store",
      referrerPolicy: "no-referrer", keepalive: !!keepalive,
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 429) { var e = new Error("busy"); e.busy = true; throw e; }
      if (r.status === 401) { refused += 1; var g = new Error("gone"); g.gone = true; throw g; }
      if (!r.ok) throw new Error("http " + r.status);
      refused = 0;
      return r.status === 204 ? null : r.json();
    });
  }

  /* -- rendering ------------------------------------------------------------------ */

  /* Text with each emergency number standing alone made a tel: link (never a part of a
     longer number: a phone number, a receipt code). bot/web/bubbles.py does the same. */
  function linkify(parent, text) {
    var runs = /\d+(?:[ .\-]\d+)*/g, at = 0, m;
    while ((m = runs.exec(text)) !== null) {
      if (!EMERGENCY[m[0]]) continue;
      if (m.index > at) parent.appendChild(document.createTextNode(text.slice(at, m.index)));
      var a = document.createElement("a");
      a.className = "tel"; a.href = "tel:" + m[0]; a.textContent = m[0];
      parent.appendChild(a);
      at = m.index + m[0].length;
    }
    if (at < text.length) parent.appendChild(document.createTextNode(text.slice(at)));
  }

  function codeOf(data) { var i = data.lastIndexOf("."); return i < 0 ? "" : data.slice(i + 1); }

  function isSummary(op) {
    var codes = {};
    (op.options || []).forEach(function (o) { codes[codeOf(o.data)] = 1; });
    return !!(codes.send && codes.fix);
  }

  /* A question with answers to tap (the emergency, language and exit options come with
     every message and do not count). */
  var GLOBAL = { "sos": 1, "lang": 1, "x": 1 };
  function offersChoice(op) {
    if (op.location) return true;
    return (op.options || []).some(function (o) { return !GLOBAL[o.data]; });
  }

  /* The newest question is what the screen shows: with options, its first line at the top
     of the conversation; without, the end of the conversation. */
  function scrollToTop(box) {
    log.scrollTop = Math.max(0, box.offsetTop - log.offsetTop - 12);
  }
  function scrollToEnd() { log.scrollTop = log.scrollHeight; }

  function fillOptions(box, op) {
    var old = box.querySelector(".opts");
    if (old) box.removeChild(old);
    var opts = op.options || [];
    if (!opts.length && !op.location) return;
    var row = document.createElement("div");
    row.className = "opts";
    box._op = op;  /* rebuilt when she turns simple mode on or off */
    if (simple && op.location) {
      simpleControl(row, "location", "location", texts.location);
    } else if (op.location) {
      var loc = document.createElement("button");
      loc.type = "button"; loc.className = "loc wide"; loc.textContent = texts.location;
      loc.setAttribute("data-location", "1");
      row.appendChild(loc);
    }
    opts.forEach(function (o) {
      if (o.data === "sos") {  /* the emergency numbers: links that call, not a button */
        var p = document.createElement("p");
        p.className = "sosopt";
        linkify(p, o.label);
        row.appendChild(p);
        return;
      }
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = o.label;
      b.setAttribute("data-choice", o.data);
      if (o.audio) b.setAttribute("data-audio", o.audio);
      var code = o.data.indexOf(".") > 0 ? codeOf(o.data) : "";
      if (code === "send") b.className = "primary wide";
      else if (code === "done") b.className = "done wide";
      else if (o.label.length > 16) b.className = "wide";
      if (simple) { b.textContent = ""; simpleOption(row, o, b); return; }
      row.appendChild(b);
    });
    if (simple && canRecord && takesVoice(op)) {
      var rec = simpleControl(row, "record", "record", texts.voice);
      rec.setAttribute("aria-pressed", recorder ? "true" : "false");
      rec.parentNode.classList.add("row");  /* her own words first, before "Xong" */
      row.insertBefore(rec.parentNode, row.firstChild);
    }
    box.appendChild(row);
  }

  function pictogram(id) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "pict"); svg.setAttribute("viewBox", "0 0 48 48");
    svg.setAttribute("aria-hidden", "true"); svg.setAttribute("focusable", "false");
    var use = document.createElementNS(ns, "use");
    use.setAttribute("href", sprite + "#p-" + id);
    svg.appendChild(use);
    return svg;
  }

  /* A step where she tells in her own words (the report's account): she may record it. */
  function takesVoice(op) {
    var codes = (op.options || []).filter(function (o) { return o.data.indexOf(".") > 0; })
      .map(function (o) { return codeOf(o.data); });
    return codes.length === 1 && codes[0] === "done";
  }

  /* Simple mode's button: the picture above a short label, and beside it a small button
     that reads the choice aloud. */
  function simpleOption(row, o, b) {
    var label = o.label, chosen = null;
    if (label.indexOf("\u2705") === 0) chosen = true;
    else if (label.indexOf("\u25ab") === 0) chosen = false;
    if (o.pictogram || chosen !== null) label = label.replace(MARK, "");
    if (chosen !== null) {
      b.setAttribute("aria-pressed", chosen ? "true" : "false");
      if (chosen) b.classList.add("on");
    }
    if (o.pictogram) {
      b.setAttribute("data-pictogram", o.pictogram);
      b.appendChild(pictogram(o.pictogram));
    }
    var words = document.createElement("span");
    words.className = "lbl"; words.textContent = label;
    b.appendChild(words);
    var cell = document.createElement("div");
    cell.className = "opt";
    cell.appendChild(b);
    var code = codeOf(o.data);
    if (o.data.indexOf(".") > 0 && (code === "send" || code === "done")) cell.classList.add("row");
    if (o.audio) {
      var hear = document.createElement("button");
      hear.type = "button"; hear.className = "hear";
      hear.setAttribute("data-hear", o.audio);
      hear.setAttribute("aria-label", texts.listen_choice + ": " + label);
      hear.title = texts.listen_choice;
      hear.appendChild(pictogram("listen"));
      cell.appendChild(hear);
      cell.classList.add("heard");
    }
    row.appendChild(cell);
  }

  function simpleControl(row, kind, id, words) {
    var b = document.createElement("button");
    b.type = "button"; b.className = kind + " wide";
    b.setAttribute("data-" + kind, "1");
    b.setAttribute("data-pictogram", id);
    b.appendChild(pictogram(id));
    var span = document.createElement("span");
    span.className = "lbl"; span.textContent = words;
    b.appendChild(span);
    var cell = document.createElement("div");
    cell.className = "opt";
    cell.appendChild(b);
    row.appendChild(cell);
    return b;
  }

  function dropOlderOptions() {
    var rows = log.querySelectorAll(".opts");
    for (var i = 0; i < rows.length; i++) rows[i].parentNode.removeChild(rows[i]);
  }

  function apply(op) {
    if (op.id <= last) return;
    last = op.id;
    if (op.lang && op.lang !== lang) switchLanguage(op.lang);
    if (op.op === "send") {
      if (turn) { turn = false; pastScreen(); }
      var box = document.createElement("div");
      box.className = "msg bot";
      if (simple && tapped && op.audio && op.audio.length) box.setAttribute("data-speak", "1");
      if (op.tag) box.setAttribute("data-tag", op.tag);
      if (op.audio) box.setAttribute("data-audio", op.audio.join(" ")); /* listen.js */
      if (op.speak) box.setAttribute("data-speak", "1");
      if (op.preload && op.preload.length) box.setAttribute("data-preload", op.preload.join(" "));
      var p = document.createElement("div");
      p.className = "text"; linkify(p, op.text);
      box.appendChild(p);
      if ((op.options && op.options.length) || op.location) dropOlderOptions();
      var asks = offersChoice(op);
      if (isSummary(op)) {  /* an edited summary replaces the old one */
        var old = log.querySelectorAll(".msg.bot[data-summary]");
        for (var k = 0; k < old.length; k++) old[k].parentNode.removeChild(old[k]);
        box.setAttribute("data-summary", "1");
      }
      fillOptions(box, op);
      if (insertAt) { log.insertBefore(box, insertAt); return; }
      log.appendChild(box);
      if (asks) scrollToTop(box); else scrollToEnd();
    } else if (op.op === "edit") {
      var all = log.querySelectorAll('.msg.bot[data-tag="' + cssEscape(op.tag) + '"]');
      if (!all.length) { op.op = "send"; last = op.id - 1; apply(op); return; }
      var target = all[all.length - 1];
      target.classList.remove("past");
      var body = target.querySelector(".text");
      body.textContent = ""; linkify(body, op.text);
      fillOptions(target, op);
    } else if (op.op === "delete") {
      var tagged = log.querySelectorAll('[data-tag="' + cssEscape(op.tag) + '"]');
      for (var i = 0; i < tagged.length; i++) tagged[i].parentNode.removeChild(tagged[i]);
    } else if (op.op === "clear") {
      log.textContent = "";
    }
  }

  /* What she saw before her last answer: hidden in simple mode (one question a screen). */
  function pastScreen() {
    for (var node = log.firstChild; node; node = node.nextSibling) {
      if (node.nodeType === 1) node.classList.add("past");
    }
  }

  function setSimple(on) {
    simple = on;
    document.documentElement.classList.toggle("simple", on);
    simpleButton.setAttribute("aria-pressed", on ? "true" : "false");
    try { store.setItem("c.m", on ? "1" : "0"); } catch (e) {}
    var boxes = log.querySelectorAll(".msg.bot");
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i]._op && boxes[i].querySelector(".opts")) fillOptions(boxes[i], boxes[i]._op);
    }
  }

  function cssEscape(s) { return String(s || "").replace(/["\\]/g, "\\$&"); }

  function applyAll(answer) {
    (answer.ops || []).forEach(apply);
    if (answer.last > last) last = answer.last;
  }

  function echo(text) {
    var box = document.createElement("div");
    box.className = "msg me";
    box.textContent = text;
    log.appendChild(box);
    scrollToEnd();
    return box;
  }

  function shortLabel(text) {
    text = String(text || "").replace(/\s+/g, " ").replace(/^\s+|\s+$/g, "");
    return text.length > 48 ? text.slice(0, 47) + "\u2026" : text;
  }

  function drop(node) { if (node && node.parentNode) node.parentNode.removeChild(node); }

  function switchLanguage(next) {
    lang = next;
    document.documentElement.lang = next;
    api("GET", "/api/chat/texts?lang=" + encodeURIComponent(next)).then(function (t) {
      texts = t;
      document.title = t.title;
      document.getElementById("exit").textContent = t.exit;
      document.getElementById("send").textContent = t.send;
      input.placeholder = t.input;
      var micText = recorder ? t.voice_stop : t.voice;
      mic.setAttribute("aria-label", micText); mic.title = micText;
      var locs = log.querySelectorAll("[data-location]");
      for (var i = 0; i < locs.length; i++) locs[i].textContent = t.location;
    }).catch(function () {});
  }

  /* -- talking to the server --------------------------------------------------------- */

  function send(event, retries) {
    if (exiting) return Promise.resolve();
    var mySeq;
    if (retries === undefined) {
      seq += 1; store.setItem("c.q", String(seq)); mySeq = seq; retries = 0;
    } else {
      mySeq = event.seq;
    }
    event.seq = mySeq;
    return api("POST", "/api/chat/event", { seq: mySeq, after: last, event: event.body })
      .then(function (answer) { setStatus(null); applyAll(answer); })
      .catch(function (err) {
        if (err.gone && refused >= 2) { restart(); return; }
        setStatus(err.busy ? "busy" : "offline");
        if (retries < 5 && !exiting) {
          return new Promise(function (ok) { setTimeout(ok, 2000 * (retries + 1)); })
            .then(function () { return send(event, retries + 1); });
        }
      });
  }

  /* Events go one at a time, in order: the server ignores an event whose number is not
     newer than the last one it handled, so two in flight could lose the first. */
  var queue = Promise.resolve();
  function say(body) {
    queue = queue.then(function () { return send({ body: body }); });
    return queue;
  }

  function longPoll() {
    if (exiting || !sid) return;
    var mine = {};
    polling = mine;
    api("GET", "/api/chat/poll?wait=25&after=" + last)
      .then(function (answer) { setStatus(null); applyAll(answer); return 0; })
      .catch(function (err) {
        /* one refusal may be a proxy's or a restarting server's: ask again before giving up
           the session (and with it the way back to her report's answers) */
        if (err.gone) { if (refused >= 2) { restart(); return -1; } return 1000; }
        return 3000;
      })
      .then(function (pause) {
        if (pause < 0 || polling !== mine) return;
        setTimeout(longPoll, pause);
      });
  }

  /* The first screen came rendered in the page: the session's own messages (the same texts
     and buttons) take its place, above anything she did meanwhile. */
  function replacePre(answer, reloaded) {
    var pre = log.querySelectorAll("[data-pre]");
    if (pre.length) {
      insertAt = pre[0];
      try { applyAll(answer); } finally { insertAt = null; }
      for (var i = 0; i < pre.length; i++) drop(pre[i]);
    } else {
      applyAll(answer);
    }
    var shown = log.querySelectorAll(".msg.bot");
    var newest = shown[shown.length - 1];
    if (reloaded && shown.length > 1) {
      for (var k = 0; k < shown.length - 1; k++) shown[k].classList.add("past");
    }
    if (newest && newest.querySelector("button[data-choice*='.'], [data-location]")) {
      scrollToTop(newest);
    } else {
      scrollToEnd();
    }
  }

  function begin() {
    return api("POST", "/api/chat/start", { lang: lang }).then(function (answer) {
      sid = answer.session; seq = 0;
      store.setItem("c.s", sid); store.setItem("c.q", "0");
      replacePre(answer);
    });
  }

  function restart() {
    store.removeItem("c.s"); store.removeItem("c.q");
    sid = null; last = 0; refused = 0; log.textContent = "";
    begin().then(longPoll).catch(function () { setStatus("offline"); });
  }

  /* -- voice messages: only where the browser can record --------------------------------
     Press to record, press again to stop and send; it stops by itself at the limit. The
     recording is posted as it is (the server checks its type, length and size again). */

  var mic = document.getElementById("mic");
  var micLabel = document.getElementById("mic-label");
  var voice = data.voice || { max_ms: 120000, max_bytes: 3145728 };
  var recorder = null, recStream = null, recChunks = [], recBytes = 0, recStart = 0;
  var recTimer = null, recDropped = false;
  var canRecord = !!(window.MediaRecorder && navigator.mediaDevices &&
    navigator.mediaDevices.getUserMedia);
  if (canRecord) mic.hidden = false;

  function recordingType() {
    var types = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];
    if (!MediaRecorder.isTypeSupported) return "";
    for (var i = 0; i < types.length; i++) {
      if (MediaRecorder.isTypeSupported(types[i])) return types[i];
    }
    return "";
  }

  function clock(ms) {
    var s = Math.floor(ms / 1000);
    return Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
  }

  function stopTracks(stream) {
    if (!stream) return;
    stream.getTracks().forEach(function (track) { track.stop(); });
  }

  function micIdle() {
    if (recTimer) { clearInterval(recTimer); recTimer = null; }
    mic.classList.remove("rec");
    mic.setAttribute("aria-pressed", "false");
    mic.setAttribute("aria-label", texts.voice || ""); mic.title = texts.voice || "";
    micLabel.textContent = "";
    syncRecord(false);
  }

  function syncRecord(on) {
    var big = log.querySelectorAll("[data-record]");
    for (var i = 0; i < big.length; i++) {
      big[i].setAttribute("aria-pressed", on ? "true" : "false");
      big[i].classList.toggle("rec", on);
    }
  }

  function startRecording() {
    if (recorder || exiting) return;
    mic.disabled = true;
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      mic.disabled = false;
      if (exiting) { stopTracks(stream); return; }
      var type = recordingType();
      var options = { audioBitsPerSecond: 32000 };
      if (type) options.mimeType = type;
      try { recorder = new MediaRecorder(stream, options); }
      catch (e) {
        try { recorder = new MediaRecorder(stream); }
        catch (again) { recorder = null; stopTracks(stream); setStatus("voice_denied"); return; }
      }
      recStream = stream; recChunks = []; recBytes = 0; recDropped = false;
      recorder.addEventListener("dataavailable", function (ev) {
        if (!ev.data || !ev.data.size) return;
        recChunks.push(ev.data);
        recBytes += ev.data.size;
        if (recBytes > voice.max_bytes) stopRecording();
      });
      recorder.addEventListener("stop", finishRecording);
      recorder.start(1000);
      recStart = Date.now();
      mic.classList.add("rec");
      mic.setAttribute("aria-pressed", "true");
      syncRecord(true);
      mic.setAttribute("aria-label", texts.voice_stop || ""); mic.title = texts.voice_stop || "";
      micLabel.textContent = "\u25A0 0:00";
      setStatus("voice_recording");
      statusLine.className = "status rec";
      recTimer = setInterval(function () {
        var took = Date.now() - recStart;
        micLabel.textContent = "\u25A0 " + clock(took);
        if (took >= voice.max_ms) stopRecording();
      }, 250);
    }, function () {
      mic.disabled = false;
      setStatus("voice_denied");
    });
  }

  function stopRecording() {
    if (recorder && recorder.state !== "inactive") recorder.stop();
  }

  function dropRecording() {
    recDropped = true;
    stopRecording();
    stopTracks(recStream);
  }

  function finishRecording() {
    var made = recorder, took = Date.now() - recStart, chunks = recChunks;
    recorder = null; recChunks = [];
    stopTracks(recStream); recStream = null;
    micIdle();
    if (exiting || recDropped) return;
    setStatus(null);
    var type = (made && made.mimeType) || (chunks.length && chunks[0].type) || "audio/webm";
    var blob = new Blob(chunks, { type: type });
    if (took < 700 || !blob.size) { setStatus("voice_short"); return; }
    if (blob.size > voice.max_bytes) { setStatus("voice_too_long"); return; }
    echo((texts.voice_sent || "") + " \u00B7 " + clock(took));
    turn = true;
    queue = queue.then(function () { return upload(blob, took); });
  }

  function upload(blob, took, mySeq, retries) {
    if (exiting) return Promise.resolve();
    if (mySeq === undefined) {
      seq += 1; store.setItem("c.q", String(seq)); mySeq = seq; retries = 0;
    }
    setStatus("voice_sending");
    var path = "/api/chat/voice?seq=" + mySeq + "&after=" + last + "&ms=" + Math.round(took) +
      "&lang=" + encodeURIComponent(lang);
    return fetch(path, {
      method: "POST", credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
      headers: { "Accept": "application/json", "X-Session": sid, "Content-Type": blob.type },
      body: blob
    }).then(function (r) {
      if (r.status === 401) { refused += 1; var g = new Error("gone"); g.gone = true; throw g; }
      refused = 0;
      if (r.status === 429) { var b = new Error("busy"); b.busy = true; throw b; }
      if (r.status === 413 || r.status === 415) {
        var fallback = texts[r.status === 413 ? "voice_too_long" : "voice_bad"];
        return r.json().catch(function () { return {}; }).then(function (body) {
          showStatus(body.message || fallback);
        });
      }
      if (!r.ok) throw new Error("http " + r.status);
      return r.json().then(function (answer) { setStatus(null); applyAll(answer); });
    }).catch(function (err) {
      if (err.gone && refused >= 2) { restart(); return; }
      setStatus(err.busy ? "busy" : "offline");
      if (retries < 3 && !exiting) {
        return new Promise(function (ok) { setTimeout(ok, 2000 * (retries + 1)); })
          .then(function () { return upload(blob, took, mySeq, retries + 1); });
      }
    });
  }

  mic.addEventListener("click", function () {
    if (!canRecord || exiting) return;
    if (recorder) stopRecording(); else startRecording();
  });

  /* -- quick exit ----------------------------------------------------------------------- */

  function quickExit() {
    if (exiting) return;
    exiting = true;
    polling = null;
    if (recorder || recStream) { try { dropRecording(); } catch (e) {} }
    if (sid) {
      try { api("POST", "/api/chat/exit", undefined, true).catch(function () {}); } catch (e) {}
    }
    try { store.clear(); } catch (e) {}
    try { window.localStorage.clear(); } catch (e) {}
    sid = null; texts = {}; data = null;
    document.title = "";
    document.documentElement.innerHTML = "<head></head><body></body>";
    try { history.replaceState(null, "", "/n"); } catch (e) {}
    window.location.replace("/n");
  }

  /* -- wiring --------------------------------------------------------------------------- */

  document.getElementById("exit").addEventListener("click", quickExit);

  var simpleButton = document.getElementById("simple");
  simpleButton.addEventListener("click", function () { tapped = true; setSimple(!simple); });
  if (simple) setSimple(true);

  log.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest("button") : null;
    if (!b || exiting) return;
    tapped = true;
    if (b.hasAttribute("data-location")) { turn = true; shareLocation(); return; }
    if (b.hasAttribute("data-record")) { mic.click(); return; }
    var choice = b.getAttribute("data-choice");
    if (choice === null) return;
    if (choice === "x") { quickExit(); return; }
    turn = true;
    echo(shortLabel(b.textContent));  /* what she answered stays in the conversation */
    say({ kind: "choice", data: choice });
  });

  function shareLocation() {
    if (!navigator.geolocation) { setStatus("location_failed"); return; }
    setStatus("location_wait");
    navigator.geolocation.getCurrentPosition(function (pos) {
      setStatus(null);
      say({ kind: "location", lat: pos.coords.latitude, lon: pos.coords.longitude });
    }, function () { setStatus("location_failed"); },
    { enableHighAccuracy: false, timeout: 20000, maximumAge: 60000 });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.replace(/^\s+|\s+$/g, "");
    if (!text || exiting) return;
    input.value = "";
    turn = true;
    var mine = echo(text);
    var done = say({ kind: "text", text: text });
    /* a receipt code typed to follow up leaves the screen once it has been used */
    if (CODE_RE.test(text)) done.then(function () { drop(mine); }, function () { drop(mine); });
  });

  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      if (form.requestSubmit) form.requestSubmit(); else form.dispatchEvent(new Event("submit"));
    }
  });

  window.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") quickExit();  /* Esc is a quick exit too, as on many hotlines */
  });

  /* the safety tip: on first load, until she closes it (for this tab) */
  var tip = document.getElementById("tip");
  if (store.getItem("c.t")) tip.hidden = true;
  document.getElementById("tip-close").addEventListener("click", function () {
    tip.hidden = true;
    try { store.setItem("c.t", "1"); } catch (e) {}
  });

  /* From here a tap is answered (queued until the session exists): the first usable moment. */
  if (window.performance && performance.mark) performance.mark("chat-live");
  var ready = sid
    ? api("GET", "/api/chat/poll?after=0").then(function (answer) {
        replacePre(answer, true);
      }).catch(function (err) {
        if (err.gone) { restart(); } else { setStatus("offline"); }
      })
    : begin().catch(function () { setStatus("offline"); });
  queue = ready;  /* a tap on the first screen before the session exists waits for it */
  ready.then(longPoll);
})();
