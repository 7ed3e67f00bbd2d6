/* deskpulse: behaviour every page may use. Loaded as a file, never inline, so the
   Content-Security-Policy can refuse every inline script (docs/deploying.md). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // A select or checkbox marked data-submit-on-change submits its form when changed
  // (the team filter, a coaching plan's actions); <noscript> buttons cover the rest.
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!field || !field.form || !field.hasAttribute("data-submit-on-change")) return;
    if (field.form.requestSubmit) field.form.requestSubmit(); else field.form.submit();
  });

  // The friction-signals panel on /analytics/ is computed after the page: fetch it and
  // put it in place. Without scripts the panel keeps its link to the signals page.
  function loadSignals() {
    var panel = document.getElementById("signals");
    if (!panel || !panel.hasAttribute("data-signals-src") || !window.fetch) return;
    fetch(panel.getAttribute("data-signals-src"), {credentials: "same-origin"})
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.text(); })
      .then(function (html) { panel.outerHTML = html; hintWideTables(); })
      .catch(function () { panel.removeAttribute("aria-busy"); });
  }
  // A table wider than its card scrolls inside its .table-wrap; on a phone only the
  // first columns show, so say that more are there: a "scroll →" hint above the table,
  // shown only while the table is wider than the wrapper.
  function hintWideTables() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var hint = wrap.previousElementSibling;
      if (!hint || !hint.classList.contains("scroll-hint")) {
        hint = document.createElement("p");
        hint.className = "scroll-hint";
        hint.setAttribute("aria-hidden", "true");
        hint.textContent = "scroll \u2192";
        wrap.parentNode.insertBefore(hint, wrap);
      }
      hint.hidden = wrap.scrollWidth <= wrap.clientWidth + 1;
    });
  }
  var pending = null;
  function hintSoon() {
    if (pending) return;
    pending = window.setTimeout(function () { pending = null; hintWideTables(); }, 100);
  }
  function ready() { loadSignals(); hintWideTables(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
  window.addEventListener("resize", hintSoon);
  // A table inside a closed <details> has no width until it opens.
  document.addEventListener("toggle", hintSoon, true);
})();
