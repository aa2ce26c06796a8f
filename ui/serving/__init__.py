"""Serving the page to many visitors: the launcher, admission and caps, the byte-bounded cache, HTTP guards, Streamlit hooks."""
