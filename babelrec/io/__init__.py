"""Reading what users bring: catalog rows and interaction logs, validated on the way in."""
