// The console's only script of its own: counts down to each assignment's next step
// ("call at 03:14:05" gains "in 1:45"), and says when the live connection drops.
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  // The server's clock says what "now" is (its rendering carries it), so a browser whose own
  // clock is off still counts down right.
  var skew = 0;
  function readSkew() {
    var marked = document.querySelector("[data-server-now]");
    var server = marked ? Date.parse(marked.getAttribute("data-server-now")) : NaN;
    skew = isNaN(server) ? 0 : Date.now() - server;
  }
  function tick() {
    var now = Date.now() - skew;
    document.querySelectorAll("time.due").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) { return; }
      var left = Math.round((due - now) / 1000);
      var label = el.nextElementSibling && el.nextElementSibling.classList.contains("left")
        ? el.nextElementSibling : null;
      if (!label) {
        label = document.createElement("span");
        label.className = "left";
        el.insertAdjacentElement("afterend", label);
      }
      label.textContent = left > 0
        ? " (in " + Math.floor(left / 60) + ":" + pad(left % 60) + ")"
        : " (due now)";
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSettle", function () { readSkew(); tick(); });
  document.addEventListener("DOMContentLoaded", function () { readSkew(); tick(); });
  function liveStatus(text) {
    var el = document.getElementById("live-status");
    if (el) { el.textContent = text; }
  }
  // The stream's last word when the session ends: stop reconnecting, say the page is not live.
  var ended = false;
  document.addEventListener("htmx:sseMessage", function (event) {
    var message = event.detail;
    if (!message || message.type !== "signed-out") { return; }
    ended = true;
    if (message.target && typeof message.target.close === "function") { message.target.close(); }
    liveStatus("Not live: your session has ended, so this board no longer changes.");
  });
  document.addEventListener("htmx:sseError", function () {
    if (ended) { return; }
    liveStatus("Connection lost: reconnecting. The board is brought up to date when it is back.");
  });
  document.addEventListener("htmx:sseOpen", function () {
    if (ended) { return; }
    liveStatus("Live: changes appear without reloading.");
  });
})();
// "Use my location" on the request form: the phone's position fills latitude and longitude.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("use-location");
    if (!button || !navigator.geolocation) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      button.textContent = "Finding you…";
      navigator.geolocation.getCurrentPosition(function (position) {
        document.getElementById("lat").value = position.coords.latitude.toFixed(5);
        document.getElementById("lon").value = position.coords.longitude.toFixed(5);
        button.textContent = "Use my location";
      }, function () {
        button.textContent = "Location not available: type it in";
      }, { enableHighAccuracy: true, timeout: 10000 });
    });
  });
})();
