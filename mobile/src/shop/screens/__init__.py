"""One module per screen; each builds its widgets once and fills them in load()."""
