"""``rag serve``: the models loaded once, answers over HTTP (JSON or streamed), and a web page
that shows where every sentence comes from (``app.py``: FastAPI; ``state.py``: the loaded
pipeline and the one-at-a-time gate; ``page.html``: the page)."""
