"""``python -m jarvis_desktop`` runs the CLI (the GUI when no sub-command is given)."""

from jarvis_desktop.entry import main

raise SystemExit(main())
