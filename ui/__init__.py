"""Streamlit app: ``app.py`` (navigation), ``jobs.py`` (background runner), ``pages/``."""
