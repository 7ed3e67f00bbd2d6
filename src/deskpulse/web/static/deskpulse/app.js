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
      .then(function (html) { panel.outerHTML = html; })
      .catch(function () { panel.removeAttribute("aria-busy"); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", loadSignals);
  else loadSignals();
})();
