"""``python -m merge_assist`` runs the command line."""

from merge_assist.cli import main

main()
