// The translators' workshop: record a text's audio in the browser, listen, redo, save.
// No recording leaves the page until "save" is pressed; then it goes to the server.
(function () {
  "use strict";
  var box = document.getElementById("recorder");
  if (!box) return;
  var status = document.getElementById("rec-status");
  if (!window.MediaRecorder || !navigator.mediaDevices) {
    box.hidden = false;
    box.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    status.textContent = box.dataset.noMic;
    return;
  }
  box.hidden = false;
  var rec = document.getElementById("rec");
  var stop = document.getElementById("stop");
  var upload = document.getElementById("upload");
  var take = document.getElementById("take");
  var recorder = null, chunks = [], blob = null, stream = null;
  var kind = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus"].filter(function (t) {
    return MediaRecorder.isTypeSupported(t);
  })[0] || "";

  rec.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (s) {
      stream = s;
      chunks = [];
      box.dataset.chunks = "0";
      recorder = new MediaRecorder(s, kind ? { mimeType: kind, audioBitsPerSecond: 32000 } : {});
      recorder.addEventListener("dataavailable", function (e) {
        if (e.data.size) chunks.push(e.data);
        box.dataset.chunks = String(chunks.length); // a quarter second each: how long so far
      });
      recorder.addEventListener("stop", function () {
        stream.getTracks().forEach(function (t) { t.stop(); });
        blob = new Blob(chunks, { type: recorder.mimeType.split(";")[0] });
        take.src = URL.createObjectURL(blob);
        take.hidden = false;
        upload.disabled = false;
        rec.textContent = box.dataset.redo;
        rec.disabled = false;
        stop.disabled = true;
        take.focus();
      });
      recorder.start(250);
      rec.disabled = true;
      stop.disabled = false;
      upload.disabled = true;
      status.textContent = "";
      stop.focus();
    }, function () { status.textContent = box.dataset.noMic; });
  });
  stop.addEventListener("click", function () { if (recorder) recorder.stop(); });
  upload.addEventListener("click", function () {
    if (!blob) return;
    upload.disabled = true;
    fetch(box.dataset.url, {
      method: "POST",
      body: blob,
      headers: { "Content-Type": blob.type, "X-CSRF": box.dataset.csrf },
      credentials: "same-origin",
    }).then(function (r) {
      return r.text().then(function (t) {
        status.textContent = t;
        if (r.ok) {
          box.dataset.saved = "1";
          var saved = document.getElementById("saved-audio");
          if (!saved) { // the first recording of this text: show its player
            saved = document.createElement("audio");
            saved.id = "saved-audio";
            saved.controls = true;
            saved.setAttribute("aria-label", box.dataset.listen);
            var none = document.getElementById("no-audio");
            (none || box).parentNode.insertBefore(saved, none || box);
            if (none) none.remove();
          }
          saved.src = box.dataset.url + "?t=" + Date.now();
        } else { upload.disabled = false; }
      });
    }, function () { status.textContent = box.dataset.bad; upload.disabled = false; });
  });
})();
