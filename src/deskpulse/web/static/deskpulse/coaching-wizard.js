/* The coaching-plan wizard: live hints on the target-date and the improvement steps. */
(function () {
  "use strict";

  // Target date: warn (without refusing) outside two weeks to three months.
  var dateInput = document.getElementById("target_date");
  var dateNote = document.getElementById("date-warning");
  if (dateInput && dateNote) {
    var warn = function (text) {
      var span = document.createElement("span");
      span.className = "warning";
      span.textContent = text;
      dateNote.replaceChildren(span);
    };
    var checkDate = function () {
      var value = dateInput.value;
      if (!value || value <= dateInput.dataset.today) { dateNote.textContent = ""; return; }
      if (value < dateInput.dataset.earliest) {
        warn("That is less than two weeks away: we recommend at least two weeks. You can still continue.");
      } else if (value > dateInput.dataset.latest) {
        warn("That is more than three months away: we recommend at most three months. You can still continue.");
      } else { dateNote.textContent = ""; }
    };
    dateInput.addEventListener("input", checkDate);
    dateInput.addEventListener("change", checkDate);
  }

  // Improvement: show the target it gives, as the server computes it.
  var input = document.getElementById("improvement");
  var live = document.getElementById("target-live");
  if (!input || !live || !window.fetch) return;
  var timer = null, asked = 0;
  function show(parts) {
    live.replaceChildren.apply(live, parts.map(function (part) {
      if (typeof part === "string") return document.createTextNode(part);
      var element = document.createElement(part.tag);
      element.className = part.className;
      element.textContent = part.text;
      return element;
    }));
  }
  function update() {
    var value = input.value.trim();
    if (!value) { show(["Enter a percentage to see your target."]); return; }
    var ticket = ++asked;
    fetch(live.dataset.previewUrl + "&improvement=" + encodeURIComponent(value),
          {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (ticket !== asked) return;
        if (body.error) {
          var message = typeof body.error === "string" ? body.error : body.error.message;
          show([{tag: "span", className: "error", text: message}]);
          return;
        }
        if (body.target.value === null) { show(["Enter a percentage to see your target."]); return; }
        var better = body.direction === "higher" ? "higher" : "lower";
        show(["Your target: ", {tag: "b", className: "target-value", text: body.target.text},
              " (" + body.improvement_percent + "% " + better + " than " + body.start.text + ")."]);
      })
      .catch(function () {});
  }
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 200); });
})();
