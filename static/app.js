// Enhancements only: every page works without this file (and without stream.js).
"use strict";

document.documentElement.classList.remove("no-js");

// A Copy button whose click puts `text()` (a string, or a promise of one) on the clipboard and
// says so for a moment. The clipboard needs https or localhost.
function copyButton(className, text) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = className;
  button.textContent = "Copy";
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(await text());
      button.textContent = "Copied";
    } catch {
      button.textContent = "Copy failed";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
  return button;
}

// A Copy button on each code block in a reply.
function addCopyButtons(root) {
  if (!navigator.clipboard) return;
  root.querySelectorAll(".md pre").forEach((pre) => {
    const block = document.createElement("div");
    block.className = "code-block";
    pre.before(block);
    block.append(pre, copyButton("copy-button", () => pre.innerText));
  });
}

// A reply's Markdown as it is stored. A reply streamed into this page keeps it (data-source);
// for one the server rendered, the thread's messages are fetched when Copy is pressed, so a
// long thread's page carries nothing extra per message. The n-th message on the page is the
// n-th stored (checked by its time, where it shows one).
async function replySource(article) {
  if (article.dataset.source !== undefined) return article.dataset.source;
  const pane = document.getElementById("messages");
  const composer = document.querySelector("form.composer");  // names the API and the thread
  const url = `${composer.dataset.apiThreads}/${composer.dataset.threadId}`;
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`The server answered ${response.status}.`);
  const stored = await response.json();
  const when = article.querySelector(":scope > time")?.getAttribute("datetime");
  const same = (message) => message?.role === "assistant" && (!when || message.timestamp === when);
  const at = [...pane.querySelectorAll("article[data-role]")].indexOf(article);
  const message = same(stored[at]) ? stored[at] : when && stored.find(same);
  if (!message) throw new Error("This reply is no longer stored.");
  return message.content;
}

// A Copy button under each reply (root: a reply, or anything holding replies).
function addReplyCopyButtons(root) {
  if (!navigator.clipboard) return;
  const replies = root.matches?.('article[data-role="assistant"]') ? [root]
    : root.querySelectorAll('article[data-role="assistant"]');
  replies.forEach((article) => {
    if (article.querySelector(":scope > .copy-reply")) return;
    const button = copyButton("copy-reply", () => replySource(article));
    button.title = "Copy this reply as Markdown";
    const time = article.querySelector(":scope > time");
    if (time) time.after(button);
    else article.append(button);
  });
}

// Show times in the reader's own time zone (the server's UTC text kept as the tooltip).
const localTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
function localTimes(root) {
  root.querySelectorAll("time[datetime]").forEach((time) => {
    const when = new Date(time.getAttribute("datetime"));
    if (!isNaN(when) && !time.title) {
      time.title = time.textContent;
      time.textContent = localTime.format(when);
    }
  });
}

// What a reply needs once it is on the page: Copy buttons, and times in the reader's zone.
function decorate(root) {
  addCopyButtons(root);
  addReplyCopyButtons(root);
  localTimes(root);
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
  let following = 0;  // a scroll to the newest text waiting for the next frame

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
      threads: composer.dataset.apiThreads,  // /api/thread: Regenerate, Edit (redo.js), Export links
      threadBase: composer.dataset.threadBase,
      threadId: composer.dataset.threadId,
      csrfToken: composer.querySelector("input[name=csrf_token]").value,
      decorate,
      // Keep the newest text in view, unless the reader has scrolled up to read: at most once
      // a frame, not after every token (each look at the sizes makes the browser lay out).
      follow: () => {
        if (following) return;
        following = requestAnimationFrame(() => {
          following = 0;
          if (messages.scrollHeight - messages.scrollTop - messages.clientHeight < 120) {
            messages.scrollTop = messages.scrollHeight;
          }
        });
      },
    };

    // One reply written at a time, whatever asked for it (Send, Regenerate, Edit): Stop shows
    // in place of Send until it ends, and Stop or Esc aborts it.
    const run = async (turn) => {
      streaming = new AbortController();
      sendButton.hidden = true;
      stopButton.hidden = false;
      try {
        return await turn(streaming.signal);
      } finally {
        streaming = null;
        stopButton.hidden = true;
        sendButton.hidden = false;
      }
    };
    window.ChatPage = { page, run, canStream, busy: () => Boolean(streaming) };

    const streamTurn = async () => {
      const text = textarea.value;
      composer.querySelector(".composer-error")?.remove();
      textarea.value = "";
      fit();
      messages.scrollTop = messages.scrollHeight;
      const outcome = await run((signal) => window.ChatStream.send(page, text, signal));
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

  // Ctrl+Shift+O (⌘+Shift+O on a Mac) opens a new chat from anywhere on the page; the hint
  // names the key a Mac has.
  const newChat = document.querySelector("a.new-chat");
  document.addEventListener("keydown", (event) => {
    if (newChat && event.shiftKey && (event.ctrlKey || event.metaKey) && !event.altKey
        && (event.code === "KeyO" || event.key.toLowerCase() === "o")) {
      event.preventDefault();
      window.location.assign(newChat.href);
    }
  });
  if (/Mac|iPhone|iPad/.test(navigator.platform)) {
    document.querySelectorAll(".hint .mod-key").forEach((key) => { key.textContent = "⌘"; });
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

  decorate(document);

  // Start at the newest message.
  if (messages) messages.scrollTop = messages.scrollHeight;
});
