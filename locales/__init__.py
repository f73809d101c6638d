"""locales package of Lên Tiếng."""
