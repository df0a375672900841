// Enhancements only: every page works without this file.
"use strict";

document.documentElement.classList.remove("no-js");

document.addEventListener("DOMContentLoaded", () => {
  const composer = document.querySelector("form.composer");
  const textarea = composer && composer.querySelector("textarea[name=message]");
  const sendButton = composer && composer.querySelector("button[type=submit]");

  if (composer && textarea) {
    const fit = () => {
      textarea.style.height = "auto";
      textarea.style.height = Math.min(textarea.scrollHeight, 240) + "px";
    };
    textarea.addEventListener("input", fit);
    fit();

    // Enter sends; Shift+Enter (or Enter while an IME is composing) makes a new line.
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (textarea.value.trim()) composer.requestSubmit();
      }
    });

    // One send at a time: disable the button while the reply is on its way.
    composer.addEventListener("submit", (event) => {
      if (composer.dataset.sending) {
        event.preventDefault();
        return;
      }
      composer.dataset.sending = "1";
      sendButton.disabled = true;
      sendButton.textContent = "Sending…";
      textarea.readOnly = true;
    });
  }

  // Coming back through the browser's history must not leave the composer stuck.
  window.addEventListener("pageshow", () => {
    if (!composer) return;
    delete composer.dataset.sending;
    sendButton.disabled = false;
    sendButton.textContent = "Send";
    textarea.readOnly = false;
  });

  // Confirm before deleting a conversation. The sidebar's delete buttons share one form; the
  // button pressed names the conversation (by the link in its row).
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      const link = event.submitter && event.submitter.closest("li").querySelector("a");
      const what = link ? `“${link.textContent}”` : "this conversation";
      if (!window.confirm(`Delete ${what}? This cannot be undone.`)) event.preventDefault();
    });
  });

  // A Copy button on each code block in a reply (the clipboard needs https or localhost).
  if (navigator.clipboard) {
    document.querySelectorAll(".md pre").forEach((pre) => {
      const block = document.createElement("div");
      const button = document.createElement("button");
      block.className = "code-block";
      button.type = "button";
      button.className = "copy-button";
      button.textContent = "Copy";
      button.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(pre.innerText);
          button.textContent = "Copied";
        } catch {
          button.textContent = "Copy failed";
        }
        setTimeout(() => { button.textContent = "Copy"; }, 1500);
      });
      pre.before(block);
      block.append(pre, button);
    });
  }

  // Show times in the reader's own time zone.
  document.querySelectorAll("time[datetime]").forEach((time) => {
    const when = new Date(time.getAttribute("datetime"));
    if (!isNaN(when)) {
      time.title = time.textContent;
      time.textContent = when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    }
  });

  // Start at the newest message.
  const messages = document.getElementById("messages");
  if (messages) messages.scrollTop = messages.scrollHeight;
});
