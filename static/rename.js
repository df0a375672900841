// Renames a conversation in place: the current row's Rename button turns its title into a text
// box; Enter saves through the JSON API (PATCH /api/thread/<id>), Esc or leaving the box cancels.
// Without this file (or stream.js, whose showTitle and problemText it uses) the same button
// opens the page's rename form (/thread/<id>?rename=1).
"use strict";

(() => {
  async function patch(url, title) {
    try {
      const response = await fetch(url, {
        method: "PATCH",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ title }),
      });
      const data = await response.json().catch(() => null);
      if (response.ok && data) return { title: data.title };
      return { error: window.ChatStream.problemText(response, data) };
    } catch {
      return { error: "Could not reach the server. The title was not changed." };
    }
  }

  function start(row, button, api) {
    const link = row.querySelector("a");
    if (!link || row.classList.contains("renaming")) return;
    const url = `${api}/${button.getAttribute("formaction").split("/").pop()}`;
    const input = document.createElement("input");
    Object.assign(input, { type: "text", className: "rename-input", maxLength: 200 });
    input.value = link.textContent;
    input.setAttribute("aria-label", "New title");
    const problem = document.createElement("p");
    problem.className = "rename-error";
    problem.setAttribute("role", "alert");
    let saving = false;
    let open = true;
    const end = (refocus) => {
      if (!open) return;
      open = false;  // once: taking the focus from the box (or removing it) makes it blur
      row.classList.remove("renaming");
      if (refocus) button.focus();
      input.remove();
      problem.remove();
    };
    const save = async () => {
      saving = true;
      const outcome = await patch(url, input.value);
      saving = false;
      if (outcome.title !== undefined) {
        window.ChatStream.showTitle(row, outcome.title);  // the row, the top bar, the tab
        end(true);
      } else {
        problem.textContent = outcome.error;  // the server's words, e.g. "title must not be empty."
        row.append(problem);
        input.focus();
      }
    };
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== "Escape") return;
      event.preventDefault();
      event.stopPropagation();  // Esc here cancels the rename, not the reply being written
      if (event.key === "Escape") end(true);
      else if (!saving) save();
    });
    input.addEventListener("blur", () => { if (!saving) end(false); });
    row.classList.add("renaming");
    link.after(input);
    input.focus();
    input.select();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("rename-thread");
    const composer = document.querySelector("form.composer");  // names the API: /api/thread
    if (!form || !composer || !window.ChatStream) return;
    // One listener for every row's button, rows added later (a new conversation) included.
    document.addEventListener("click", (event) => {
      const button = event.target.closest?.("button.rename-button");
      if (!button || button.getAttribute("form") !== form.id) return;
      event.preventDefault();  // no form submission: rename here instead
      start(button.closest("li"), button, composer.dataset.apiThreads);
    });
  });
})();
