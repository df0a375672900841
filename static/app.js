// Enhancements only: every page works without this file (and without stream.js).
"use strict";

document.documentElement.classList.remove("no-js");

// A Copy button on each code block in a reply (the clipboard needs https or localhost).
function addCopyButtons(root) {
  if (!navigator.clipboard) return;
  root.querySelectorAll(".md pre").forEach((pre) => {
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
function localTimes(root) {
  root.querySelectorAll("time[datetime]").forEach((time) => {
    const when = new Date(time.getAttribute("datetime"));
    if (!isNaN(when) && !time.title) {
      time.title = time.textContent;
      time.textContent = when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    }
  });
}

// Streaming needs a readable fetch body and a way to abort it; older browsers post the form.
const canStream = Boolean(window.ChatStream && window.AbortController && window.TextDecoderStream
                          && window.ReadableStream && "body" in Response.prototype);

document.addEventListener("DOMContentLoaded", () => {
  const composer = document.querySelector("form.composer");
  const textarea = composer && composer.querySelector("textarea[name=message]");
  const sendButton = composer && composer.querySelector("button[type=submit]");
  const stopButton = composer && composer.querySelector(".stop-button");
  const messages = document.getElementById("messages");
  let streaming = null;  // the AbortController of the reply being written

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
        if (textarea.value.trim() && !streaming) composer.requestSubmit();
      }
    });

    const page = {
      composer,
      pane: messages,
      latest: document.getElementById("latest"),
      api: composer.dataset.api,
      threadBase: composer.dataset.threadBase,
      threadId: composer.dataset.threadId,
      csrfToken: composer.querySelector("input[name=csrf_token]").value,
      decorate: (node) => { addCopyButtons(node); localTimes(node); },
      // Keep the newest text in view, unless the reader has scrolled up to read.
      follow: () => {
        if (messages.scrollHeight - messages.scrollTop - messages.clientHeight < 120) {
          messages.scrollTop = messages.scrollHeight;
        }
      },
    };

    const streamTurn = async () => {
      const text = textarea.value;
      streaming = new AbortController();
      composer.querySelector(".composer-error")?.remove();
      textarea.value = "";
      fit();
      sendButton.hidden = true;
      stopButton.hidden = false;
      messages.scrollTop = messages.scrollHeight;
      const outcome = await window.ChatStream.send(page, text, streaming.signal);
      streaming = null;
      stopButton.hidden = true;
      sendButton.hidden = false;
      if (outcome.restore !== undefined && !textarea.value) {
        textarea.value = outcome.restore;
        fit();
      }
      if (outcome.error) {
        const problem = document.createElement("p");
        problem.className = "composer-error";
        problem.setAttribute("role", "alert");
        problem.textContent = outcome.error;
        composer.prepend(problem);
      }
      textarea.focus();
    };

    composer.addEventListener("submit", (event) => {
      if (composer.dataset.sending || streaming) {
        event.preventDefault();
        return;
      }
      if (canStream && textarea.value.trim()) {
        event.preventDefault();
        streamTurn();
        return;
      }
      // The plain form post: one send at a time, the button disabled while the reply comes.
      composer.dataset.sending = "1";
      sendButton.disabled = true;
      sendButton.textContent = "Sending…";
      textarea.readOnly = true;
    });

    // Stop (the button or Esc) ends the reply; what was written is kept, here and on the server.
    const stop = () => streaming && streaming.abort();
    stopButton.addEventListener("click", stop);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && streaming) {
        event.preventDefault();
        stop();
      }
    });

    // Coming back through the browser's history must not leave the composer stuck.
    window.addEventListener("pageshow", () => {
      delete composer.dataset.sending;
      sendButton.disabled = false;
      sendButton.textContent = "Send";
      textarea.readOnly = false;
    });
  }

  // Confirm before deleting a conversation. The sidebar's delete buttons share one form; the
  // button pressed names the conversation (by the link in its row).
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      const link = event.submitter && event.submitter.closest("li").querySelector("a");
      const what = link ? `“${link.textContent}”` : "this conversation";
      if (!window.confirm(`Delete ${what}? This cannot be undone.`)) event.preventDefault();
    });
  });

  addCopyButtons(document);
  localTimes(document);

  // Start at the newest message.
  if (messages) messages.scrollTop = messages.scrollHeight;
});
