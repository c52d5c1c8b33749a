"""Streamlit app: ``app.py`` (navigation), ``jobs.py`` (background runner), ``views/`` (one module per page; not ``pages/``, which Streamlit would also list on its own)."""
