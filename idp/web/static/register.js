// Registration step 2: says whether the chosen username can be used, while it is typed.
// The form is checked again on submit; this only saves a round trip.
(function () {
  "use strict";
  var input = document.getElementById("username");
  var output = document.getElementById("username-check");
  if (!input || !output) { return; }
  var timer = null;
  function check() {
    var value = input.value.trim();
    if (value === "") { output.textContent = ""; return; }
    var url = output.getAttribute("data-url") + "?username=" + encodeURIComponent(value);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body || input.value.trim() !== value) { return; }
        output.textContent = body.message || output.getAttribute("data-available") || "";
        output.className = "live-check " + (body.available ? "is-ok" : "is-error");
      })
      .catch(function () { output.textContent = ""; });
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  });
  // A name typed before this script ran (slow connection), filled in by the browser or kept
  // after going back: check it now, since no input event will come for it.
  if (input.value.trim() !== "") { check(); }
}());
