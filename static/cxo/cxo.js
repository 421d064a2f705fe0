// CXO console behaviour. No inline scripts: the CSP allows only files from static/.
(function () {
  "use strict";
  // htmx sends the CSRF token taken from the meta tag on every request it makes.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
  });
  // Reveal a masked secret (write keys) on demand.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-reveal]");
    if (!button) { return; }
    var target = document.getElementById(button.getAttribute("data-reveal"));
    if (!target) { return; }
    var shown = target.getAttribute("data-shown") === "1";
    if (!shown) {
      target.setAttribute("data-masked", target.textContent);
      target.textContent = target.getAttribute("data-secret");
    } else {
      target.textContent = target.getAttribute("data-masked");
    }
    target.setAttribute("data-shown", shown ? "0" : "1");
    button.textContent = shown ? "Reveal" : "Hide";
  });
  // Ask before destructive form posts.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
