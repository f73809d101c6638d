"""routing package of Lên Tiếng."""
