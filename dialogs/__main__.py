"""``python -m dialogs status|extract|update|audio``: catalog completeness and maintenance,
and the spoken prompts' audio (``audio``, see docs/spoken-prompts.md)."""

from dialogs.i18n import main

raise SystemExit(main())
