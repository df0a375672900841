// Regenerate (the last reply) and Edit (the last message), streamed in place by the reader a
// chat turn uses (stream.js), with Stop and Esc as for any reply (app.js runs one at a time).
// Without this file, or a browser that cannot stream, the same controls are plain forms and a
// link (templates/redo.html) that the server answers with the whole reply.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const chat = window.ChatPage;
  if (!chat || !chat.canStream) return;  // the forms post as they are
  const { page, run } = chat;
  const { start, read, unanswered, clearPane, newReply, notice, stamp, element } = window.ChatStream;
  const pane = page.pane;
  const composerText = page.composer.querySelector("textarea[name=message]");

  function button(className, text, type) {
    const node = element("button", className, text);
    node.type = type;
    return node;
  }

  // The controls as templates/redo.html renders them, but for the forms' method, action and
  // CSRF token: this file's submit handler takes every submission of these.
  function regenerateForm() {
    const form = element("form", "turn-actions regenerate-form");
    const press = button("turn-action", "Regenerate", "submit");
    press.title = "Ask for another reply in place of this one";
    form.append(press);
    return form;
  }

  function editLink() {
    const box = element("div", "turn-actions edit-actions");
    const link = element("a", "turn-action edit-link", "Edit");
    Object.assign(link, { href: `${page.threadBase}${page.threadId}?edit=last#edit-form`,
                          title: "Reword this message and get a new reply" });
    box.append(link);
    return box;
  }

  function editForm(text, error) {
    const form = element("form", "edit-form");
    form.id = "edit-form";
    const label = element("label", "visually-hidden", "Edit your message");
    label.htmlFor = "edit-message";
    const box = element("textarea");
    Object.assign(box, { id: "edit-message", name: "message", rows: 4, maxLength: composerText.maxLength, required: true, value: text });
    const buttons = element("div", "edit-buttons");
    buttons.append(button("retry-button", "Save", "submit"), button("retry-button edit-cancel", "Cancel", "button"));
    form.append(label);
    if (error) {
      const problem = element("p", "composer-error", error);
      problem.setAttribute("role", "alert");
      form.append(problem);
    }
    form.append(box, buttons, element("p", "edit-note", "Saving replaces the reply to this message with a new one."));
    return form;
  }

  // After each turn: Regenerate under the last reply when it is whole (a cut-short one is
  // offered Retry), Edit under the last question; each right after its article.
  function placeActions() {
    pane.querySelectorAll(".turn-actions").forEach((node) => node.remove());
    if (!page.threadId || pane.querySelector(".streaming")) return;
    const articles = [...pane.querySelectorAll("article.message")];
    const last = articles.at(-1);
    if (last?.dataset.role === "assistant" && !last.classList.contains("cut-short")) last.after(regenerateForm());
    const question = articles.reverse().find((article) => article.dataset.role === "user");
    if (question && !question.querySelector(".edit-form")) question.after(editLink());
  }
  page.settled = placeActions;

  function openEditor(question, text, error) {
    pane.querySelectorAll(".edit-form").forEach(closeEditor);
    const form = editForm(text, error);
    const bubble = question.querySelector(".bubble");
    bubble.hidden = true;
    bubble.after(form);
    if (question.nextElementSibling?.matches(".edit-actions")) question.nextElementSibling.remove();
    const box = form.elements.message;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }

  function closeEditor(form) {
    const question = form.closest("article");
    form.remove();
    question.querySelector(".bubble").hidden = false;
    if (new URLSearchParams(location.search).has("edit")) history.replaceState(null, "", page.threadBase + page.threadId);
    placeActions();
  }

  function focusComposer() {
    composerText.focus();
  }

  // Regenerate: a new reply takes the last one's place as it is written. The server keeps the
  // old one until the new one has text, so if none comes the old one comes back here too.
  async function regenerate(signal) {
    const last = [...pane.querySelectorAll("article.message")].at(-1);
    const old = last?.dataset.role === "assistant" ? last : null;
    clearPane(page);
    const started = await start(`${page.threads}/${page.threadId}/regenerate`, "POST", {}, signal);
    if (!started.response) {
      const why = started.refused || (started.unreachable && "Could not reach the server.");
      if (why) page.latest.before(notice(why));
      return placeActions();
    }
    const reply = newReply();
    if (old) old.replaceWith(reply);
    else page.latest.before(reply);
    await read(page, started.response, reply, old ? (reason) => {
      reply.replaceWith(old);
      if (reason) page.latest.before(notice(reason));
    } : unanswered(page, reply));
  }

  // Edit: the last question gets new words. Once the server has them, its old reply is gone
  // and a new one is written in its place. Refused: the error, and the page as it was.
  async function edit(question, text, signal) {
    clearPane(page);
    const started = await start(`${page.threads}/${page.threadId}/messages/last`, "PATCH",
                                { content: text }, signal);
    if (!started.response) {
      placeActions();
      return started.refused || (started.unreachable ? "Could not reach the server. Your change was not saved." : null);
    }
    question.querySelector(".plain").textContent = text.replace(/\r\n/g, "\n").trim();
    question.querySelector("time")?.remove();
    stamp(question, new Date().toISOString());  // the server keeps the time of the edit
    page.decorate(question);
    const old = question.nextElementSibling;
    const reply = newReply();
    if (old?.matches('article[data-role="assistant"]')) old.replaceWith(reply);
    else question.after(reply);
    page.follow();
    await read(page, started.response, reply, unanswered(page, reply));
    return null;
  }

  async function save(form) {
    const question = form.closest("article");
    const text = form.elements.message.value;
    closeEditor(form);
    const error = await run((signal) => edit(question, text, signal));
    if (error) openEditor(question, text, error);  // what was typed, and what is wrong
    else focusComposer();
  }

  pane.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches(".regenerate-form, .edit-form")) return;
    event.preventDefault();
    if (chat.busy()) return;  // one reply at a time
    if (form.matches(".edit-form")) save(form);
    else run(regenerate).then(focusComposer);
  });

  pane.addEventListener("click", (event) => {
    const link = event.target.closest("a.edit-link");
    const cancel = event.target.closest(".edit-form .edit-cancel");
    if (link) {
      event.preventDefault();
      const question = link.closest(".turn-actions").previousElementSibling;
      if (!chat.busy()) openEditor(question, question.querySelector(".plain").textContent);
    } else if (cancel) {
      event.preventDefault();
      closeEditor(cancel.closest("form"));
    }
  });

  // In the editor, Enter saves (Shift+Enter: a new line) and Esc cancels.
  pane.addEventListener("keydown", (event) => {
    const form = event.target.closest(".edit-form");
    if (!form || event.target.name !== "message") return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();  // not also a Stop
      closeEditor(form);
    }
  });
});
