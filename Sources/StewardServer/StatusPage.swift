/// `GET /` on the metrics listener: one self-contained page (no CDN, nothing downloaded: it works
/// offline and behind any proxy) that shows every service and draws each one's memory by class, so
/// that the page cache a tool like `podman stats` counts is seen next to the anonymous memory the
/// service owns. It reads `GET /status` (the JSON of `steward ctl status --json`) every few seconds
/// and redraws the table in place. Read-only, as the whole metrics listener is.
enum StatusPage {
    /// Scripts and styles are inline; the page may only fetch from where it came from.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:"

    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Steward</title>
        <style>
          :root { --anon: #c0392b; --shmem: #e67e22; --active: #2980b9; --inactive: #85c1e9; --kernel: #7f8c8d; }
          body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; background: #fafafa; }
          h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
          p.note { margin: 0 0 1rem; color: #555; max-width: 60rem; }
          table { border-collapse: collapse; width: 100%; background: #fff; }
          th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e3e3e3; white-space: nowrap; }
          th { font-weight: 600; font-size: .85rem; color: #555; }
          td.num { text-align: right; font-variant-numeric: tabular-nums; }
          td.memory { width: 40%; min-width: 14rem; }
          .state-running { color: #1e8449; } .state-failed { color: #c0392b; font-weight: 600; }
          .state-backoff, .state-starting, .state-stopping { color: #b9770e; } .state-idle, .state-exited { color: #777; }
          .bar { position: relative; height: 1.1rem; background: #eee; border-radius: 2px; overflow: visible; }
          .bar span.class { position: absolute; top: 0; bottom: 0; }
          .bar span.limit { position: absolute; top: -3px; bottom: -3px; width: 2px; background: #000; }
          .legend span { display: inline-block; margin-right: 1rem; }
          .legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; }
          #updated { color: #777; font-size: .85rem; }
          #error { color: #c0392b; }
        </style>
        </head>
        <body>
        <h1>Steward</h1>
        <p class="note">Memory by class, from each service's cgroup (memory.stat). <b>Anon</b> (and shmem) is what a
        service owns and cannot give back: the memory guard watches it. <b>File</b> is page cache the kernel
        reclaims when it needs the room; tools that report cgroup usage count it as the service's memory.</p>
        <p class="legend">
          <span><i style="background:var(--anon)"></i>anon</span><span><i style="background:var(--shmem)"></i>shmem</span>
          <span><i style="background:var(--active)"></i>active file</span><span><i style="background:var(--inactive)"></i>inactive file</span>
          <span><i style="background:var(--kernel)"></i>kernel</span><span><i style="background:#000"></i>memory guard limit</span>
        </p>
        <table>
          <thead><tr><th>Service</th><th>State</th><th>PID</th><th>Uptime</th><th>Restarts</th><th>Anon</th><th>File</th>
            <th>Limit</th><th>Memory</th></tr></thead>
          <tbody id="services"></tbody>
        </table>
        <p><span id="updated"></span> <span id="error"></span></p>
        <script>
        "use strict";
        const classes = [["anon_bytes", "anon"], ["shmem_bytes", "shmem"], ["active_file_bytes", "active"],
                         ["inactive_file_bytes", "inactive"], ["kernel_bytes", "kernel"]];
        function bytes(value) {
          if (value === null || value === undefined) return "-";
          const units = ["B", "KiB", "MiB", "GiB", "TiB"];
          let unit = 0;
          while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
          return unit === 0 ? value + " B" : value.toFixed(1) + " " + units[unit];
        }
        function duration(seconds) {
          if (seconds === null || seconds === undefined) return "-";
          const total = Math.floor(seconds), d = Math.floor(total / 86400), h = Math.floor(total / 3600) % 24,
                m = Math.floor(total / 60) % 60;
          if (d > 0) return d + "d " + h + "h";
          if (h > 0) return h + "h " + m + "m";
          if (m > 0) return m + "m " + (total % 60) + "s";
          return total + "s";
        }
        function stateText(service) {
          let text = service.state;
          if (service.backoff_remaining_seconds !== null) text += " in " + service.backoff_remaining_seconds.toFixed(1) + "s";
          if (service.state === "failed" && service.detail) text += ": " + service.detail;
          return text;
        }
        function restartsText(restarts) {
          const reasons = Object.keys(restarts).filter(k => restarts[k] > 0).sort();
          const total = reasons.reduce((sum, k) => sum + restarts[k], 0);
          return total === 0 ? "0" : total + " (" + reasons.map(k => k + " " + restarts[k]).join(", ") + ")";
        }
        function cell(row, field, text, className) {
          const td = document.createElement("td");
          td.dataset.field = field;
          td.textContent = text;
          if (className) td.className = className;
          row.appendChild(td);
          return td;
        }
        function bar(service, scale) {
          const outer = document.createElement("div");
          outer.className = "bar";
          const memory = service.memory;
          let offset = 0;
          if (memory) {
            const tip = [];
            for (const [key, name] of classes) {
              const value = memory[key] || 0;
              tip.push(name + " " + bytes(memory[key]));
              if (value <= 0) continue;
              const span = document.createElement("span");
              span.className = "class";
              span.dataset.class = name;
              span.style.left = (100 * offset / scale) + "%";
              span.style.width = (100 * value / scale) + "%";
              span.style.background = "var(--" + name + ")";
              outer.appendChild(span);
              offset += value;
            }
            outer.title = tip.join(", ") + "; usage " + bytes(memory.usage_bytes);
          }
          if (service.anon_limit_bytes !== null) {
            const limit = document.createElement("span");
            limit.className = "limit";
            limit.style.left = (100 * service.anon_limit_bytes / scale) + "%";
            limit.title = "memory guard limit " + bytes(service.anon_limit_bytes);
            outer.appendChild(limit);
          }
          return outer;
        }
        function total(memory) {
          return memory ? classes.reduce((sum, [key]) => sum + (memory[key] || 0), 0) : 0;
        }
        function render(report) {
          const scale = Math.max(1, ...report.services.map(s => Math.max(total(s.memory), s.anon_limit_bytes || 0)));
          const rows = report.services.map(service => {
            const row = document.createElement("tr");
            row.dataset.service = service.name;
            cell(row, "name", service.name);
            cell(row, "state", stateText(service), "state-" + service.state);
            cell(row, "pid", service.pid === null ? "-" : String(service.pid), "num");
            cell(row, "uptime", duration(service.uptime_seconds), "num");
            cell(row, "restarts", restartsText(service.restarts));
            const memory = service.memory;
            cell(row, "anon", bytes(memory ? memory.anon_bytes : null), "num");
            cell(row, "file", bytes(memory ? memory.active_file_bytes + memory.inactive_file_bytes : null), "num");
            cell(row, "limit", bytes(service.anon_limit_bytes), "num");
            cell(row, "memory", "", "memory").appendChild(bar(service, scale));
            return row;
          });
          document.getElementById("services").replaceChildren(...rows);
          document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
          document.body.dataset.loaded = "true";
        }
        async function refresh() {
          try {
            const answer = await fetch("/status", { cache: "no-store" });
            if (!answer.ok) throw new Error("HTTP " + answer.status);
            render(await answer.json());
            document.getElementById("error").textContent = "";
          } catch (error) {
            document.getElementById("error").textContent = "cannot reach Steward: " + error.message;
          }
        }
        refresh();
        setInterval(refresh, 3000);
        </script>
        </body>
        </html>
        """#
}
