/* Lên Tiếng web chat: hear a message. A large play button on each bot message whose words
   have audio (data-audio, set by chat.js from the server's op); it reads the message, then
   each choice in turn, marking the choice being read. A person who chose "nghe" (data-speak)
   hears each new message by itself. Audio stays in this page's memory only.
   Simple mode (chat.js): the message's audio is an <audio> element in it, its play button
   large and focused, and each choice has its own small button reading that choice. */
(function () {
  "use strict";
  var texts = JSON.parse(document.getElementById("page-data").textContent).texts;
  var log = document.getElementById("log");
  var players = {};
  var fetched = {};  /* url -> promise of a blob: URL (a code's clips, fetched all at once) */
  var playing = null;

  function player(url, local) {
    if (local && (!players[url] || players[url].src !== local)) players[url] = new Audio(local);
    if (!players[url]) { players[url] = new Audio(url); players[url].preload = "none"; }
    return players[url];
  }

  /* A message saying a code (the receipt) lists every clip that could say one (all ten
     digits): they are fetched together as it arrives and played from memory, so the
     order of requests reaching a server or proxy never spells the code. */
  function prefetch(box) {
    (box.getAttribute("data-preload") || "").split(" ").filter(Boolean).forEach(function (url) {
      if (fetched[url]) return;
      fetched[url] = fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.blob() : null; })
        .then(function (blob) { return blob ? URL.createObjectURL(blob) : null; })
        .catch(function () { return null; });
    });
  }

  function stop() {
    if (!playing) return;
    var run = playing; playing = null;
    run.audio.pause();
    run.button.setAttribute("aria-pressed", "false");
    run.button.setAttribute("aria-label", run.label);
    if (run.mark) run.mark.classList.remove("speaking");
  }

  function simple() { return document.documentElement.classList.contains("simple"); }

  function play(box, button) {
    var items = (box.getAttribute("data-audio") || "").split(" ").filter(Boolean)
      .map(function (url) { return { url: url, mark: null }; });
    var choices = box.querySelectorAll(".opts button[data-audio]");
    for (var i = 0; i < choices.length; i++) {
      items.push({ url: choices[i].getAttribute("data-audio"), mark: choices[i] });
    }
    playList(button, items, texts.listen);
  }

  function playList(button, items, label) {
    var was = playing && playing.button === button;
    stop();
    if (was) return;
    var run = { button: button, audio: null, mark: null, label: label };
    playing = run;
    button.setAttribute("aria-pressed", "true");
    button.setAttribute("aria-label", texts.listen_stop);
    next(0);

    function next(at) {
      if (playing !== run) return;
      if (run.mark) run.mark.classList.remove("speaking");
      if (at >= items.length) { stop(); return; }
      var ready = fetched[items[at].url];
      if (ready) { ready.then(function (local) { if (playing === run) start(at, local); }); }
      else start(at, null);
    }

    function start(at, local) {
      run.audio = player(items[at].url, local);
      run.mark = items[at].mark;
      if (run.mark) run.mark.classList.add("speaking");
      run.audio.currentTime = 0;
      run.audio.onended = function () { next(at + 1); };
      run.audio.onerror = function () { next(at + 1); };
      var started = run.audio.play();
      if (started && started.catch) started.catch(function () { if (playing === run) stop(); });
    }
  }

  function attach(box) {
    if (!box.getAttribute("data-audio") || box.querySelector(":scope > .play")) return;
    var button = document.createElement("button");
    button.type = "button"; button.className = "play";
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-label", texts.listen);
    button.title = texts.listen;
    button.addEventListener("click", function () { play(box, button); });
    box.insertBefore(button, box.firstChild);
    prefetch(box);
    if (simple()) equip(box);
    if (box.getAttribute("data-speak")) play(box, button);
  }

  /* Simple mode: the message's audio as <audio> elements in it; the newest message's play
     button takes the focus, so the first thing to press is "listen". */
  function equip(box) {
    var button = box.querySelector(":scope > .play");
    if (!button) return;
    if (!box.querySelector(":scope > audio")) {
      /* a code's message: its clip set (every digit, in a fixed order), not the code's */
      var urls = box.getAttribute("data-preload") || box.getAttribute("data-audio");
      urls.split(" ").filter(Boolean).forEach(function (url) {
        var audio = document.createElement("audio");
        audio.preload = "none"; audio.src = url; audio.hidden = true;
        box.appendChild(audio);
        if (!players[url]) players[url] = audio;
      });
    }
    if (!box.nextElementSibling) {
      try { button.focus({ preventScroll: true }); } catch (e) { button.focus(); }
    }
  }

  new MutationObserver(function () {
    if (simple()) Array.prototype.forEach.call(log.querySelectorAll(".msg.bot"), equip);
  }).observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });

  /* simple mode: a choice's own small button reads that choice only */
  log.addEventListener("click", function (ev) {
    var hear = ev.target.closest ? ev.target.closest("[data-hear]") : null;
    if (!hear) return;
    var label = hear.getAttribute("aria-label");
    playList(hear, [{ url: hear.getAttribute("data-hear"), mark: null }], label);
  });

  Array.prototype.forEach.call(log.querySelectorAll(".msg.bot"), attach);
  new MutationObserver(function (records) {
    records.forEach(function (record) {
      for (var i = 0; i < record.addedNodes.length; i++) {
        var node = record.addedNodes[i];
        if (node.nodeType === 1 && node.classList.contains("bot")) attach(node);
      }
      for (var j = 0; j < record.removedNodes.length; j++) {
        var gone = record.removedNodes[j];
        if (playing && gone.contains && gone.contains(playing.button)) stop();
      }
    });
  }).observe(log, { childList: true });
})();
