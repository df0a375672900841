// Streams a turn through the JSON API (POST /api/chat with "stream": true) and grows the reply
// in place. app.js uses it when the browser can read a response as it arrives; otherwise the
// composer posts as a plain form. Reads the server's events: thread, token..., done | error.
// The same reader serves Regenerate and Edit (redo.js), whose endpoints send the same events.
"use strict";

window.ChatStream = (() => {
  // Server-sent events from a fetch body: yields {event, data} as each one completes.
  async function* events(response) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
      }
    }
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // An article like the server's: role, bubble, time.
  function message(role, text) {
    const article = element("article", "message");
    article.dataset.role = role;
    const bubble = element("div", "bubble");
    bubble.append(element("div", role === "user" ? "plain" : "md", text));
    article.append(bubble);
    return article;
  }

  // A time as the server writes it (UTC); the page's decorate() shows it in the reader's zone.
  function stamp(article, iso) {
    const time = element("time", "", `${iso.slice(0, 16).replace("T", " ")} UTC`);
    time.setAttribute("datetime", iso);
    article.append(time);
  }

  // A Retry form as the server renders it (a plain POST; the page reloads with the reply).
  function retryOffer(page, text) {
    const box = element("div", "awaiting");
    box.append(element("span", "", text));
    const form = element("form");
    form.method = "post";
    form.action = `${page.threadBase}${page.threadId}/retry`;
    const token = element("input");  // the page's CSRF token
    Object.assign(token, { type: "hidden", name: "csrf_token", value: page.csrfToken });
    const button = element("button", "retry-button", "Retry");
    button.type = "submit";
    form.append(token, button);
    box.append(form);
    return box;
  }

  function notice(text) {
    const note = element("p", "notice notice-error", text);
    note.setAttribute("role", "alert");
    return note;
  }

  // A sidebar row's button as the server renders it: the shared form it submits, the address it
  // names, and its icon (templates/icons.html). showTitle() gives it its name.
  function rowButton(className, tip, form, formaction, icon) {
    const button = element("button", className);
    button.title = tip;
    button.setAttribute("form", form);
    button.setAttribute("formaction", formaction);
    button.innerHTML = `<svg class="icon" width="18" height="18" aria-hidden="true" focusable="false"><use href="#icon-${icon}"/></svg>`;
    return button;
  }

  // The conversation shown: its title in the top bar and the tab.
  function showHeading(title) {
    document.title = `${title} · chatapp`;
    const heading = document.querySelector(".topbar-title");
    if (heading) heading.textContent = title;
  }

  // A conversation's title in its sidebar row (the link, its buttons' names) and, when it is
  // the one shown, in the top bar and the tab. rename.js uses it after a rename.
  function showTitle(row, title) {
    const link = row.querySelector("a");
    link.textContent = title;
    link.title = title;
    row.querySelector(".rename-button")?.setAttribute("aria-label", `Rename “${title}”`);
    row.querySelector(".delete-button")?.setAttribute("aria-label", `Delete “${title}”`);
    if (row.classList.contains("current")) showHeading(title);
  }

  // The sidebar row of the current thread goes to the top (made from an existing row or anew).
  function raiseInSidebar(page, title) {
    const list = document.querySelector("ul.threads");
    if (!list || "search" in list.dataset) return;  // search results: only what matched
    const url = page.threadBase + page.threadId;
    list.querySelector("li.empty")?.remove();
    let row = [...list.querySelectorAll("li")].find((li) => li.querySelector("a")?.getAttribute("href") === url);
    if (!row) {
      row = element("li", "thread-item");
      const link = element("a");
      link.href = url;
      row.append(link,  // the buttons as the server renders the current row's
                 rowButton("rename-button", "Rename conversation", "rename-thread", url, "pencil"),
                 rowButton("delete-button", "Delete conversation", "delete-thread", `${url}/delete`, "trash"));
      showTitle(row, title);
    }
    list.querySelectorAll("li.current").forEach((li) => {
      li.classList.remove("current");
      li.querySelector("a")?.removeAttribute("aria-current");
    });
    row.classList.add("current");
    row.querySelector("a").setAttribute("aria-current", "page");
    row.dataset.updated = new Date().toISOString();  // updated now: under Today
    list.prepend(row);
    window.SidebarGroups?.regroup(list);
  }

  function onThread(page, data) {
    if (page.threadId !== data.threadId) {
      page.threadId = data.threadId;
      const url = page.threadBase + data.threadId;
      history.replaceState(null, "", url);
      page.composer.action = url;
      page.composer.dataset.threadId = data.threadId;
      const search = document.querySelector("form.search-form");
      if (search) search.action = url;  // a search keeps this new conversation open
      // The Export links, hidden on a new chat (without JavaScript: plain links on a
      // conversation's page), now download this conversation.
      const exports = document.querySelector(".export-links");
      if (exports) {
        exports.hidden = false;
        for (const link of exports.querySelectorAll("a[data-format]")) {
          link.href = `${page.threads}/${encodeURIComponent(data.threadId)}/export?format=${link.dataset.format}`;
        }
      }
    }
    showHeading(data.title);
    raiseInSidebar(page, data.title);
  }

  // Marks a reply as cut short, as the server shows one after a reload.
  function cutShort(page, article, note, offer) {
    article.classList.remove("streaming");
    article.classList.add("cut-short");
    article.append(element("p", "cut-note", note));
    // The text streamed so far is the partial's Markdown, as this page saw it: Copy copies that.
    article.dataset.source = article.querySelector(".md").textContent;
    page.decorate(article);
    article.after(retryOffer(page, offer));
  }

  // Clears what belonged to the turn before: notices, offers, and the Edit and Regenerate
  // controls (redo.js puts those back on the newest messages once this turn is over).
  function clearPane(page) {
    page.pane.querySelector(".welcome")?.remove();
    page.pane.querySelectorAll(".awaiting, .notice, .turn-actions").forEach((node) => node.remove());
  }

  function newReply() {
    const reply = message("assistant", "");
    reply.classList.add("streaming");
    return reply;
  }

  // What a refusal says: the server's words from its JSON error body, or else its status.
  function problemText(response, body) {
    return body?.error?.message || `The server answered ${response.status}.`;
  }

  // Starts a streamed turn: {response} when the server streams it. Otherwise nothing was
  // stored, and {refused: the server's words}, or {unreachable: true} (false: Stop was pressed).
  async function start(url, method, payload, signal) {
    try {
      const response = await fetch(url, {
        method, signal,
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify({ ...payload, stream: true }),
      });
      if (response.ok) return { response };
      return { refused: problemText(response, await response.json().catch(() => null)) };
    } catch (error) {
      return { unreachable: error.name !== "AbortError" };
    }
  }

  // The one reader of a turn's events, for chat, regenerate and edit: grows `reply` (on the
  // page already) and finishes it with the server's HTML. If no text came, `noReply(reason)`
  // shows what is left (reason: the server's words, or null when stopped or cut off).
  async function read(page, response, reply, noReply) {
    const body = reply.querySelector(".md");
    let ended = false;  // by a done or an error event
    try {
      for await (const { event, data } of events(response)) {
        ended ||= event === "done" || event === "error";
        if (event === "thread") onThread(page, data);
        else if (event === "token") { body.append(data.delta); page.follow(); }
        else if (event === "done") {
          reply.classList.remove("streaming");
          body.innerHTML = data.html;  // the server's safe Markdown rendering
          stamp(reply, data.timestamp);
          reply.dataset.source = data.reply;  // the Markdown, for the reply's Copy button
          page.decorate(reply);
        } else if (event === "error") {
          if (body.textContent) cutShort(page, reply, data.error.message, "Ask again for a whole reply.");
          else noReply(data.error.message);
        }
      }
      if (!ended) throw new Error("The stream ended early.");
    } catch (error) {
      if (!ended && body.textContent) cutShort(page, reply, error.name === "AbortError" ? "Stopped: this reply was cut short." : "The connection broke: this reply may be incomplete.", "Ask again for a whole reply.");
      else if (!ended) noReply(null);  // what follows the last event does not matter
    }
    page.follow();
    page.settled?.();
  }

  // What a question left without a reply shows: why (when known), and Retry.
  function unanswered(page, reply) {
    return (reason) => {
      reply.remove();
      if (reason) page.latest.before(notice(reason));
      page.latest.before(retryOffer(page, "This message has no reply yet."));
    };
  }

  // One turn: show the question at once, grow the reply, finish with the server's HTML.
  async function send(page, text, signal) {
    clearPane(page);
    const question = message("user", text);
    const reply = newReply();
    page.latest.before(question, reply);
    page.follow();
    const model = page.composer.elements.model;
    const started = await start(page.api, "POST", {
      message: text, ...(page.threadId && { threadId: page.threadId }), ...(model && { model: model.value }),
    }, signal);
    if (!started.response) {  // nothing was stored: give the text back to edit
      question.remove();
      reply.remove();
      if (started.unreachable) page.latest.before(notice("Could not reach the server. Your message was not sent."));
      page.settled?.();
      return { restore: text, error: started.refused };
    }
    await read(page, started.response, reply, unanswered(page, reply));
    return {};
  }

  // redo.js builds Regenerate and Edit from the same pieces; rename.js shows a new title with
  // showTitle and words a refusal with problemText.
  return { send, start, read, unanswered, clearPane, newReply, notice, stamp, element, showTitle, problemText };
})();
