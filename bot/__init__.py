"""bot package of Lên Tiếng."""
