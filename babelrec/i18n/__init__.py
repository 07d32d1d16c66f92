"""Languages and scripts: language identification and the script a text is written in."""
