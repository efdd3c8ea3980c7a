// report.html: the leaderboards (sort, search, pages, CSV) and the Plotly figures.
// Data comes from <script type="application/json"> blocks on the page; nothing is fetched.
"use strict";
(function () {
  var NUMBER = /^[\[(]?\s*([+\-\u2212]?\d[\d,]*(?:\.\d+)?(?:e[+\-]?\d+)?)/i;

  function sortKey(text) {  // the leading number of a cell ("0.512 ± 0.003", "3-7", "[0.1, 0.4]", "+2"), or null
    var match = NUMBER.exec(String(text));
    return match ? parseFloat(match[1].replace(/,/g, "").replace("\u2212", "-")) : null;
  }

  function csvCell(text) {
    text = String(text);
    return /[",\n\r]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function Leaderboard(root, spec) {
    this.root = root;
    this.spec = spec;  // {header, align, rows, search}
    this.order = spec.rows.map(function (_, i) { return i; });
    this.shown = this.order.slice();
    this.page = 0;
    this.pageSize = 25;
    this.sorted = null;  // [column, +1 | -1]
    this.numeric = spec.header.map(function (_, c) {
      return spec.rows.some(function (row) { return sortKey(row[c]) !== null; }) &&
        spec.rows.every(function (row) { return sortKey(row[c]) !== null || String(row[c]).trim() === "" || String(row[c]) === "-"; });
    });
    this.build();
    this.draw();
  }

  Leaderboard.prototype.build = function () {
    var self = this, spec = this.spec, doc = document;
    var controls = doc.createElement("div");
    controls.className = "controls";
    this.search = doc.createElement("input");
    this.search.type = "search";
    this.search.placeholder = "search " + spec.header[spec.search] + " names";
    this.search.setAttribute("aria-label", this.search.placeholder);
    this.search.addEventListener("input", function () { self.filter(); });
    this.size = doc.createElement("select");
    [25, 100, 500, 0].forEach(function (n) {
      var option = doc.createElement("option");
      option.value = n;
      option.textContent = n ? n + " rows a page" : "all rows";
      self.size.appendChild(option);
    });
    this.size.addEventListener("change", function () { self.pageSize = +self.size.value; self.page = 0; self.draw(); });
    this.prev = button("\u2190 previous", function () { self.page -= 1; self.draw(); });
    this.next = button("next \u2192", function () { self.page += 1; self.draw(); });
    this.info = doc.createElement("span");
    this.info.className = "info";
    this.download = doc.createElement("a");
    this.download.className = "button csv";
    this.download.textContent = "CSV of these rows";
    this.download.download = "leaderboard.csv";
    this.download.href = "#";
    this.download.addEventListener("click", function () { self.download.href = "data:text/csv;charset=utf-8," + encodeURIComponent(self.csv()); });
    [this.search, this.size, this.prev, this.next, this.info, this.download].forEach(function (e) { controls.appendChild(e); });
    var table = doc.createElement("table");
    table.className = "leaderboard";
    var head = table.createTHead().insertRow();
    this.headers = spec.header.map(function (name, c) {
      var th = doc.createElement("th");
      th.textContent = name;
      th.className = spec.align[c] === "r" ? "r" : "";
      th.title = "sort by " + name;
      th.addEventListener("click", function () { self.sortBy(c); });
      head.appendChild(th);
      return th;
    });
    this.body = table.createTBody();
    var scroll = doc.createElement("div");
    scroll.className = "scroll";
    scroll.appendChild(table);
    this.root.appendChild(controls);
    this.root.appendChild(scroll);

    function button(text, onclick) {
      var b = doc.createElement("button");
      b.type = "button";
      b.textContent = text;
      b.addEventListener("click", onclick);
      return b;
    }
  };

  Leaderboard.prototype.sortBy = function (c) {
    var rows = this.spec.rows, numeric = this.numeric[c];
    var keys = numeric ? rows.map(function (row) { return sortKey(row[c]); }) : null;
    var direction = this.sorted && this.sorted[0] === c ? -this.sorted[1] : 1;
    this.order.sort(function (i, j) {
      var a = rows[i][c], b = rows[j][c], by;
      if (numeric) {
        a = keys[i]; b = keys[j];
        if (a === null || b === null) return (a === null) - (b === null) || i - j;  // empty cells last
        by = a - b;
      } else {
        by = String(a).localeCompare(String(b));
      }
      return by * direction || i - j;
    });
    this.sorted = [c, direction];
    this.headers.forEach(function (th, k) {
      if (k === c) th.setAttribute("aria-sort", direction > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
    this.filter();
  };

  Leaderboard.prototype.filter = function () {
    var query = this.search.value.trim().toLowerCase(), rows = this.spec.rows, c = this.spec.search;
    this.shown = query ? this.order.filter(function (i) { return String(rows[i][c]).toLowerCase().indexOf(query) >= 0; })
                       : this.order.slice();
    this.page = 0;
    this.draw();
  };

  Leaderboard.prototype.draw = function () {
    var spec = this.spec, size = this.pageSize || this.shown.length || 1;
    var pages = Math.max(1, Math.ceil(this.shown.length / size));
    this.page = Math.min(Math.max(this.page, 0), pages - 1);
    var first = this.page * size, rows = this.shown.slice(first, first + size);
    var body = document.createElement("tbody");
    rows.forEach(function (i) {
      var tr = body.insertRow();
      spec.rows[i].forEach(function (cell, c) {
        var td = tr.insertCell();
        td.textContent = cell;
        if (spec.align[c] === "r") td.className = "r";
      });
    });
    this.body.parentNode.replaceChild(body, this.body);
    this.body = body;
    this.info.textContent = this.shown.length
      ? "rows " + (first + 1) + "-" + (first + rows.length) + " of " + this.shown.length +
        (this.shown.length < spec.rows.length ? " (of " + spec.rows.length + ")" : "")
      : "no row matches";
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= pages - 1;
  };

  Leaderboard.prototype.csv = function () {  // the rows that match the search, in the order shown, every page
    var spec = this.spec;
    return [spec.header].concat(this.shown.map(function (i) { return spec.rows[i]; }))
      .map(function (row) { return row.map(csvCell).join(","); }).join("\n") + "\n";
  };

  function data(id) { return JSON.parse(document.getElementById(id).textContent); }

  window.csdReport = { leaderboards: [] };
  document.querySelectorAll("div.leaderboard-root").forEach(function (root) {
    window.csdReport.leaderboards.push(new Leaderboard(root, data(root.getAttribute("data-spec"))));
  });
  if (window.Plotly) {
    document.querySelectorAll("div.plot").forEach(function (div) {
      var figure = data(div.getAttribute("data-spec"));
      window.Plotly.newPlot(div, figure.data, figure.layout, { displaylogo: false, responsive: true, typesetMath: false });
    });
  }
})();
