// The focal inbox asks every 20 s whether anything changed (a new card, a message, an
// acknowledgement). It reloads only when nothing is being typed or chosen; otherwise it
// shows a line with a reload link. It stops once the session is gone.
(function () {
  "use strict";
  var shown = document.body.getAttribute("data-version");
  var notice = document.querySelector(".updated");
  var EVERY_MS = 20000;

  function busy() {
    var fields = document.querySelectorAll("textarea, input[name=text], input[name=ref]");
    for (var i = 0; i < fields.length; i++) if (fields[i].value) return true;
    var ticked = document.querySelectorAll("input[type=checkbox]:checked, select");
    for (var j = 0; j < ticked.length; j++) {
      if (ticked[j].tagName !== "SELECT" || ticked[j].value) return true;
    }
    return document.activeElement && /^(TEXTAREA|INPUT|SELECT)$/.test(document.activeElement.tagName);
  }

  function check() {
    fetch("/focal/updates", { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (answer.status === 401) { window.location.reload(); return null; }
        return answer.ok ? answer.json() : null;
      })
      .then(function (body) {
        if (body && body.v && body.v !== shown) {
          if (busy()) { notice.hidden = false; } else { window.location.reload(); return; }
        }
        window.setTimeout(check, EVERY_MS);
      })
      .catch(function () { window.setTimeout(check, EVERY_MS); });
  }
  if (shown && notice) window.setTimeout(check, EVERY_MS);
})();
