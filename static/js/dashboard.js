/* Service dashboard charts: draws the canvases from the JSON block #dashboard-data.
   The CSP allows only scripts from this site, so the figures come as data, never as inline script.
   Without JavaScript (or Chart.js) the canvases stay hidden and the tables carry the same figures. */
(function () {
  "use strict";

  function draw() {
    var node = document.getElementById("dashboard-data");
    if (!node || typeof window.Chart === "undefined") { return; }
    var charts;
    try { charts = JSON.parse(node.textContent); } catch (e) { return; }
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var canvases = document.querySelectorAll("canvas[data-chart]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var series = charts[canvas.getAttribute("data-chart")];
      if (!series || !series.values.length) { return; }
      canvas.hidden = false;
      canvas.parentNode.style.position = "relative";  // CSSOM, not a style attribute: allowed by the CSP
      canvas.parentNode.style.maxWidth = "48rem";
      new window.Chart(canvas, {
        type: series.type,
        data: {
          labels: series.labels,
          datasets: [{ label: series.label, data: series.values, backgroundColor: "#1d5c63", borderColor: "#1d5c63" }]
        },
        options: {
          responsive: true,
          animation: still ? false : undefined,
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      });
      canvas.setAttribute("data-drawn", "true");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
