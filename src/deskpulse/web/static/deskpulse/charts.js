/* Draws the page's Plotly charts from its "figures" data block (a json_script, which is
   data, not code): {"element id": {"data": [...], "layout": {...}}}. */
(function () {
  "use strict";
  var source = document.getElementById("figures");
  if (!source || !window.Plotly) return;
  var figures = JSON.parse(source.textContent);
  Object.keys(figures).forEach(function (id) {
    var target = document.getElementById(id);
    if (!target) return;
    var figure = figures[id];
    // No "Share chart" button: it would send the install's numbers to Plotly's cloud.
    Plotly.newPlot(target, figure.data, figure.layout,
                   {displaylogo: false, responsive: true, showSendToCloud: false});
    if (id === "chart-load") {
      // Load balancing: a click on a person's point opens their drill-down.
      target.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && point.customdata) window.location.href = point.customdata;
      });
    }
  });
})();
