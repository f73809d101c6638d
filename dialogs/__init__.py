"""dialogs package of Lên Tiếng."""
