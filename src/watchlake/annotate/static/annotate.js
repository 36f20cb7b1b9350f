// The annotation page: plots of the leased window, keyboard shortcuts, refusals shown in the status line.
(function () {
  "use strict";
  const AXES = [
    ["user_acceleration_x", "acc x (g)", "#d62728"], ["user_acceleration_y", "acc y (g)", "#ff7f0e"],
    ["user_acceleration_z", "acc z (g)", "#bcbd22"], ["rotation_rate_x", "rot x (rad/s)", "#1f77b4"],
    ["rotation_rate_y", "rot y (rad/s)", "#17becf"], ["rotation_rate_z", "rot z (rad/s)", "#9467bd"],
  ];
  let plots = [];

  function width(el) { return Math.max(320, el.clientWidth || 800); }

  function draw(data) {
    plots.forEach((p) => p.destroy());
    plots = [];
    const axesEl = document.getElementById("plot-axes");
    const magEl = document.getElementById("plot-magnitudes");
    if (!axesEl || !magEl) return;
    const x = { label: "seconds into the window" };
    if (data.source === "kafka") {
      const series = [{}].concat(AXES.map(([, label, stroke]) => ({ label, stroke, width: 1 })));
      plots.push(new uPlot({ title: "motion axes, 10 Hz", width: width(axesEl), height: 220,
        scales: { x: { time: false } }, axes: [x, {}], series },
        [data.seconds].concat(AXES.map(([name]) => data.axes[name])), axesEl));
    } else {
      axesEl.textContent = "";
    }
    plots.push(new uPlot({ title: "|acceleration| (g) and |rotation rate| (rad/s)", width: width(magEl), height: 160,
      scales: { x: { time: false } }, axes: [x, {}],
      series: [{}, { label: "|acc|", stroke: "#d62728", width: 1.5 }, { label: "|rot|", stroke: "#1f77b4", width: 1.5 }] },
      [data.seconds, data.acceleration, data.rotation], magEl));
    document.getElementById("plot-source").textContent = data.source === "kafka"
      ? data.seconds.length + " readings read back from Kafka"
      : "Kafka no longer holds this window: per-second means from the queue";
  }

  function showWindow() {
    document.querySelectorAll("time[data-utc]").forEach((t) => {
      t.textContent = new Date(t.dataset.utc).toLocaleString();
    });
    const section = document.getElementById("window");
    if (!section) { plots.forEach((p) => p.destroy()); plots = []; return; }
    const url = "/ui/readings?device_id=" + encodeURIComponent(section.dataset.device) +
      "&window_start=" + encodeURIComponent(section.dataset.start.replace(/Z$/, ""));
    fetch(url, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.statusText)))
      .then((data) => { if (document.getElementById("window") === section) draw(data); section.dataset.plotted = "1"; })
      .catch((e) => status("plot: " + e));
  }

  function status(text) {
    const el = document.getElementById("status");
    if (el) el.textContent = text;
  }

  document.addEventListener("keydown", (event) => {
    if (event.target.closest && event.target.closest("input, textarea")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    let button = null;
    if (/^[0-9]$/.test(event.key)) button = document.querySelector('button.class[data-key="' + event.key + '"]');
    else if (event.key === "s") button = document.getElementById("skip");
    else if (event.key === "u") button = document.getElementById("undo");
    if (button) { event.preventDefault(); button.click(); }
  });

  document.addEventListener("htmx:responseError", (event) => {
    status(event.detail.xhr.status + ": " + event.detail.xhr.responseText);
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target && event.detail.target.id === "work") { status(""); showWindow(); }
  });
  document.addEventListener("DOMContentLoaded", showWindow);
})();
