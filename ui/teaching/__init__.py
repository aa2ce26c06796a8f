"""Teaching content: the lessons and their steps (TOML data, checks measured on a Trace) and the Learn tab's prose."""
