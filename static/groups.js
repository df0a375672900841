// The sidebar's date groups by the reader's own days. The server groups by UTC days, as it cannot
// know the reader's time zone (chatapp/day_groups.py); this groups the same rows again under the
// same headings. The server gives the rows' times as one list on the <ul> (data-updated, in row
// order: cheaper than an attribute per row); each row keeps its own once read, and a row made or
// moved by stream.js is given the time it was updated.
"use strict";

window.SidebarGroups = (() => {
  // Each heading with the whole days before the start of today at which its group starts.
  const GROUPS = [["Today", 0], ["Yesterday", 1], ["Previous 7 days", 7], ["Previous 30 days", 30]];

  // [heading, start in ms], newest first; a Date built from local parts is local midnight,
  // whatever the month's length or a change to summer time.
  function starts(now) {
    return GROUPS.map(([heading, days]) =>
      [heading, new Date(now.getFullYear(), now.getMonth(), now.getDate() - days).getTime()]);
  }

  function headingFor(time, bounds) {
    const group = bounds.find(([, start]) => time >= start);
    return group ? group[0] : "Older";
  }

  function headingItem(text) {
    const item = document.createElement("li");
    item.className = "group";
    item.setAttribute("role", "presentation");
    const heading = document.createElement("h2");
    heading.textContent = text;
    item.append(heading);
    return item;
  }

  // Puts a heading before the first row of each group (rows are newest first); a row without a
  // time stays where it is, under the heading above it.
  function regroup(list = document.querySelector("ul.threads")) {
    if (!list) return;
    const bounds = starts(new Date());
    list.querySelectorAll(":scope > li.group").forEach((item) => item.remove());
    let current = null;
    list.querySelectorAll(":scope > li.thread-item").forEach((row) => {
      const time = Date.parse(row.dataset.updated);
      if (Number.isNaN(time)) return;
      const heading = headingFor(time, bounds);
      if (heading !== current) row.before(headingItem(heading));
      current = heading;
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const list = document.querySelector("ul.threads[data-updated]");
    if (!list) return;
    const times = list.dataset.updated.split(" ");
    list.querySelectorAll(":scope > li.thread-item").forEach((row, i) => {
      if (times[i] && !row.dataset.updated) row.dataset.updated = times[i];
    });
    regroup(list);
  });

  return { regroup };
})();
