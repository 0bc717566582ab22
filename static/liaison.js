// Liaison's pages read without this script. It only makes sign-in smoother:
// - in the iframe, "Sign in" opens a popup (identity providers refuse to be framed) and waits
//   for the popup to hand over a one-time code of the new session, then reloads the page with it
//   (`?h=`: spent on first use, so the reloaded URL carries nothing reusable);
// - in the popup, once signed in, it hands the code to the window that opened it, posting
//   only to Liaison's own origin, and closes.
(function () {
  "use strict";
  var done = document.getElementById("liaison-signed-in");
  if (done && window.opener) {
    var origin = done.getAttribute("data-origin");
    window.opener.postMessage(
      { type: "liaison:signed-in", handoff: done.getAttribute("data-handoff") },
      origin
    );
    window.close();
    return;
  }
  var links = document.querySelectorAll("a[data-liaison-popup]");
  Array.prototype.forEach.call(links, function (link) {
    link.addEventListener("click", function (event) {
      var popup = window.open(link.href, "liaison-sign-in", "popup,width=520,height=640");
      if (popup) { event.preventDefault(); }
    });
  });
  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin) { return; }
    var data = event.data || {};
    if (data.type !== "liaison:signed-in" || typeof data.handoff !== "string") { return; }
    var url = new URL(window.location.href);
    url.searchParams.delete("launch");
    url.searchParams.delete("s");
    url.searchParams.set("h", data.handoff);
    window.location.replace(url.toString());
  });
})();
