"""The Streamlit side of app.py, by what it serves: page/ (page and widgets), teaching/ (lessons, Learn), serving/ (hosting)."""
