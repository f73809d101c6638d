"""storage package of Lên Tiếng."""
