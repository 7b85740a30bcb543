// The front end: a unit converter for build reports, rendered into #app.
import { formatBytes, formatSeconds } from "./format";
import { speedup, type Measurement } from "./compare";

// Which build made this bundle; incremental runs rewrite it (see scenario.toml), so that their
// edit reaches the shipped JavaScript, which a comment would not: the bundler drops comments.
const BUILD = "stagebench-token";

const sample: Measurement[] = [
  { variant: "single", buildSeconds: 812, imageBytes: 1_020_000_000 },
  { variant: "multi", buildSeconds: 85, imageBytes: 612_000_000 },
];

function render(root: HTMLElement, rows: Measurement[]): void {
  const baseline = rows[0];
  const table = document.createElement("table");
  table.dataset.build = BUILD;
  table.innerHTML = "<tr><th>variant</th><th>build</th><th>image</th><th>speed-up</th></tr>";
  for (const row of rows) {
    const tr = document.createElement("tr");
    for (const text of [
      row.variant,
      formatSeconds(row.buildSeconds),
      formatBytes(row.imageBytes),
      `${speedup(baseline, row).toFixed(1)}×`,
    ]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    table.appendChild(tr);
  }
  root.replaceChildren(table);
}

const root = document.getElementById("app");
if (root) {
  render(root, sample);
}
