/* Lên Tiếng web chat: hear a message. A large play button on each bot message whose words
   have audio (data-audio, set by chat.js from the server's op); it reads the message, then
   each choice in turn, marking the choice being read. A person who chose "nghe" (data-speak)
   hears each new message by itself. Audio stays in this page's memory only. */
(function () {
  "use strict";
  var texts = JSON.parse(document.getElementById("page-data").textContent).texts;
  var log = document.getElementById("log");
  var players = {};
  var playing = null;

  function player(url) {
    if (!players[url]) { players[url] = new Audio(url); players[url].preload = "none"; }
    return players[url];
  }

  function stop() {
    if (!playing) return;
    var run = playing; playing = null;
    run.audio.pause();
    run.button.setAttribute("aria-pressed", "false");
    run.button.setAttribute("aria-label", texts.listen);
    if (run.mark) run.mark.classList.remove("speaking");
  }

  function play(box, button) {
    var was = playing && playing.button === button;
    stop();
    if (was) return;
    var items = (box.getAttribute("data-audio") || "").split(" ").filter(Boolean)
      .map(function (url) { return { url: url, mark: null }; });
    var choices = box.querySelectorAll(".opts button[data-audio]");
    for (var i = 0; i < choices.length; i++) {
      items.push({ url: choices[i].getAttribute("data-audio"), mark: choices[i] });
    }
    var run = { button: button, audio: null, mark: null };
    playing = run;
    button.setAttribute("aria-pressed", "true");
    button.setAttribute("aria-label", texts.listen_stop);
    (function next(at) {
      if (playing !== run) return;
      if (run.mark) run.mark.classList.remove("speaking");
      if (at >= items.length) { stop(); return; }
      run.audio = player(items[at].url);
      run.mark = items[at].mark;
      if (run.mark) run.mark.classList.add("speaking");
      run.audio.currentTime = 0;
      run.audio.onended = function () { next(at + 1); };
      run.audio.onerror = function () { next(at + 1); };
      var started = run.audio.play();
      if (started && started.catch) started.catch(function () { if (playing === run) stop(); });
    })(0);
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
    if (box.getAttribute("data-speak")) play(box, button);
  }

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
