"""``python -m dialogs status|extract|update``: catalog completeness and maintenance."""

from dialogs.i18n import main

raise SystemExit(main())
