// The "Export: Markdown · JSON" links follow the conversation shown. A new chat becomes a
// conversation without a reload (stream.js sets the composer's data-thread-id), so the links,
// hidden on a new chat, appear then, pointing at it. Without JavaScript they are plain links
// on every conversation's page.
(() => {
  const links = document.querySelector(".export-links");
  const composer = document.querySelector("form.composer");
  if (!links || !composer) return;

  function follow() {
    const threadId = composer.dataset.threadId;
    links.hidden = !threadId;
    if (!threadId) return;
    for (const link of links.querySelectorAll("a[data-format]")) {
      const thread = links.dataset.base + encodeURIComponent(threadId);
      link.href = `${thread}/export?format=${link.dataset.format}`;
    }
  }

  new MutationObserver(follow).observe(composer,
    { attributes: true, attributeFilter: ["data-thread-id"] });
  follow();
})();
