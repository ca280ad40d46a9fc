// homeport dashboard: live updates over server-sent events, resource buttons, console search.
// Pages are rendered on the server; this script only re-fetches <main> when it changed.
(function () {
  "use strict";
  const main = document.getElementById("main");
  const live = (main && main.dataset.live ? main.dataset.live : "").split(" ");
  const consoleBox = document.getElementById("console");
  const search = document.getElementById("console-search");
  const dot = document.getElementById("live");

  const query = new URLSearchParams();
  if (consoleBox) query.set("console", consoleBox.dataset.service || "");
  const events = new EventSource("/events?" + query.toString());
  events.onopen = () => dot && dot.classList.add("on");
  events.onerror = () => dot && dot.classList.remove("on");

  let timer = null;
  function refresh() {
    if (timer !== null) return;
    timer = setTimeout(async () => {
      timer = null;
      const response = await fetch(location.pathname + location.search, {
        headers: { "X-Fragment": "main" },
      });
      if (!response.ok) return;
      const open = [...main.querySelectorAll("details[open]")].map((d) => d.id);
      main.innerHTML = await response.text();
      for (const id of open) {
        const details = document.getElementById(id);
        if (details) details.open = true;
      }
      document.dispatchEvent(new CustomEvent("homeport:refreshed"));
    }, 250);
  }
  for (const kind of ["resources", "telemetry"]) {
    events.addEventListener(kind, () => {
      if (live.includes(kind)) refresh();
    });
  }

  function matches(text) {
    const wanted = search ? search.value.trim().toLowerCase() : "";
    return !wanted || text.toLowerCase().includes(wanted);
  }
  function filterConsole() {
    if (!consoleBox) return;
    for (const line of consoleBox.children) line.hidden = !matches(line.textContent);
  }
  if (search) search.addEventListener("input", filterConsole);
  filterConsole();

  events.addEventListener("log", (event) => {
    if (!consoleBox) return;
    const line = JSON.parse(event.data);
    const row = document.createElement("div");
    row.className = "line" + (line.stream === "stderr" ? " err" : "");
    const time = document.createElement("time");
    time.textContent = new Date(line.ts * 1000).toTimeString().slice(0, 8);
    const who = document.createElement("b");
    who.textContent = line.service;
    row.append(time, who, " " + line.text);
    row.hidden = !matches(row.textContent);
    const atBottom = consoleBox.scrollTop + consoleBox.clientHeight >= consoleBox.scrollHeight - 4;
    consoleBox.append(row);
    while (consoleBox.children.length > 5000) consoleBox.firstChild.remove();
    if (atBottom) consoleBox.scrollTop = consoleBox.scrollHeight;
  });
  if (consoleBox) consoleBox.scrollTop = consoleBox.scrollHeight;

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const { action, name } = button.dataset;
    const result = document.getElementById("action-result");
    button.disabled = true;
    if (result) result.textContent = `${action} ${name}…`;
    try {
      const response = await fetch(`/api/resources/${encodeURIComponent(name)}/${action}`, {
        method: "POST",
        headers: { "X-Requested-With": "homeport" },
      });
      const body = await response.json();
      if (result) result.textContent = response.ok ? `${action} ${name}: asked` : body.error;
    } catch (error) {
      if (result) result.textContent = `${action} ${name} failed: ${error}`;
    } finally {
      button.disabled = false;
      refresh();
    }
  });
})();
